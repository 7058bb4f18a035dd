using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>
/// The KUnit usercopy suite (lib/tests/usercopy_kunit.c, formerly lib/test_user_copy.c) case by case, with the exact
/// values the kernel returns where KUnit only checks "non-zero": a two-page kmalloc buffer and a two-page anonymous
/// mapping, as usercopy_test_init sets them up (C2, C8, C10, C11, C15).
/// </summary>
public class UsercopyKunitTests
{
    private const ulong Page = PageDefs.PAGE_SIZE;

    private sealed record Priv(Machine M, Process P, KernelPtr Kmem, UserPtr Umem, ulong Size);

    private static Priv Init(string kernel = "6.12")
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("kunit");
        var kmem = m.Kmalloc(2 * Page)!.Value;
        var umem = p.MapAnonymous(2 * Page, Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC);
        return new Priv(m, p, kmem, umem, 2 * Page);
    }

    private static T Run<T>(Priv t, Func<T> body)
    {
        var r = t.M.Run(t.P, "kunit", body);
        Assert.That(r.Returned, Is.True, r.Outcome);
        return r.Value;
    }

    private static void Poke(Priv t, KernelPtr at, byte value, ulong len) =>
        t.M.Phys.PokeBytes(Sim.Pa(t.M, at), Enumerable.Repeat(value, (int)len).ToArray());

    private static byte[] Kernel(Priv t, KernelPtr at, ulong len) => Sim.ReadKernel(t.M, at, (int)len);

    private static byte[] User(Priv t, UserPtr at, ulong len) => t.P.Peek(at, (int)len).Select(b => b!.Value).ToArray();

    // ---- usercopy_test_valid --------------------------------------------------------------------------------

    [Test]
    public void Valid_CopyRoundTripAndGetPutUserOfEverySize()
    {
        var t = Init();
        Poke(t, t.Kmem, 0x3a, 2 * Page);
        Assert.That(Run(t, () => t.M.Copy.CopyToUser(t.Umem, t.Kmem, Page)), Is.Zero);
        Poke(t, t.Kmem, 0, Page);
        Assert.That(Run(t, () => t.M.Copy.CopyFromUser(t.Kmem, t.Umem, Page)), Is.Zero);
        Assert.That(Kernel(t, t.Kmem, Page), Is.EqualTo(Kernel(t, t.Kmem + Page, Page)));

        foreach (var (size, check) in new[] { (1, 0x5aUL), (2, 0x5a5bUL), (4, 0x5a5b5c5dUL), (8, 0x5a5b5c5d6a6b6c6dUL) })
        {
            Assert.That(Run(t, () => t.M.Copy.PutUser(check, t.Umem, size)), Is.Zero, $"put_user u{size * 8}");
            Assert.That(Run(t, () => (t.M.Copy.GetUser(t.Umem, size, out var v), v)), Is.EqualTo((0, check)), $"get_user u{size * 8}");
        }
    }

    // ---- usercopy_test_invalid --------------------------------------------------------------------------------

    [Test]
    public void Invalid_AllKernelCopyFromUser_ReturnsNAndZeroesTheDestination()
    {
        var t = Init();
        Poke(t, t.Kmem, 0x5a, Page);
        Poke(t, t.Kmem + Page, 0, Page);
        // copy_from_user(kmem, (char __user *)(kmem + PAGE_SIZE), PAGE_SIZE): access_ok fails → n, whole buffer zeroed.
        Assert.That(Run(t, () => t.M.Copy.CopyFromUser(t.Kmem, new UserPtr((t.Kmem + Page).Value), Page)), Is.EqualTo(Page));
        Assert.That(Kernel(t, t.Kmem, Page), Is.EqualTo(Kernel(t, t.Kmem + Page, Page)));
        Assert.That(Kernel(t, t.Kmem, Page), Is.All.EqualTo((byte)0));
    }

    [Test]
    public void Invalid_CopyToUserOfAKernelAddress_ReturnsNAndWritesNothing()
    {
        var t = Init();
        Poke(t, t.Kmem, 0x5a, Page);
        Poke(t, t.Kmem + Page, 0, Page);
        Assert.That(Run(t, () => t.P.Fill(t.Umem, Page, _ => 0x77).Completed(Page)), Is.True);
        // illegal all-kernel copy_to_user
        Assert.That(Run(t, () => t.M.Copy.CopyToUser(new UserPtr(t.Kmem.Value), t.Kmem + Page, Page)), Is.EqualTo(Page));
        // illegal reversed copy_to_user: the source is the user buffer taken as a kernel pointer
        Assert.That(Run(t, () => t.M.Copy.CopyToUser(new UserPtr(t.Kmem.Value), new KernelPtr(t.Umem.Value), Page)), Is.EqualTo(Page));
        Assert.That(Kernel(t, t.Kmem, Page), Is.All.EqualTo((byte)0x5a));
        Assert.That(User(t, t.Umem, Page), Is.All.EqualTo((byte)0x77));
    }

    [TestCase(1, 0x5aUL)]
    [TestCase(2, 0x5a5bUL)]
    [TestCase(4, 0x5a5b5c5dUL)]
    [TestCase(8, 0x5a5b5c5d6a6b6c6dUL)]
    public void Invalid_GetUserPutUserOfAKernelAddress_EfaultZeroedValueAndKernelUntouched(int size, ulong check)
    {
        var t = Init();
        var asUser = new UserPtr(t.Kmem.Value);
        Assert.That(Run(t, () => (t.M.Copy.GetUser(asUser, size, out var v), v)), Is.EqualTo((-Errno.EFAULT, 0UL)), "get_user zeroes x");
        t.M.Phys.PokeBytes(Sim.Pa(t.M, t.Kmem), BitConverter.GetBytes(0xF09FA4AFF09FA4AFUL));
        Assert.That(Run(t, () => t.M.Copy.PutUser(check, asUser, size)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(BitConverter.ToUInt64(Kernel(t, t.Kmem, 8)), Is.EqualTo(0xF09FA4AFF09FA4AFUL), "put_user wrote to kernel memory");
    }

    [Test]
    public void Invalid_BadUserAddress_CopyFromUserZeroFillsTheUncopiedTail()
    {
        // A user range whose second page is unmapped: access_ok passes, the copy stops at the page and the tail is zeroed.
        var t = Init();
        Assert.That(t.P.Fill(t.Umem, Page, i => (byte)(i + 1)).Completed(Page), Is.True);
        Assert.That(t.P.Munmap(t.Umem.Value + Page, Page), Is.Zero);
        Poke(t, t.Kmem, 0xee, 200);
        Assert.That(Run(t, () => t.M.Copy.CopyFromUser(t.Kmem, t.Umem + (Page - 40), 100)), Is.EqualTo(60UL));
        var got = Kernel(t, t.Kmem, 200);
        Assert.That(got[..40], Is.EqualTo(Enumerable.Range((int)Page - 40, 40).Select(i => (byte)(i + 1)).ToArray()));
        Assert.That(got[40..100], Is.All.EqualTo((byte)0), "copy_from_user zero-fills the uncopied tail");
        Assert.That(got[100..], Is.All.EqualTo((byte)0xee), "nothing past n");
        Assert.That(Run(t, () => (t.M.Copy.GetUser(t.Umem + Page, 4, out var v), v)), Is.EqualTo((-Errno.EFAULT, 0UL)));
    }

    // ---- usercopy_test_check_nonzero_user -------------------------------------------------------------------

    /// <summary>
    /// The KUnit pattern [00 ff 00 ff … 00 00 … ff 00 ff 00] across the page boundary, every [start, end] pair of a
    /// window of <paramref name="size"/> bytes: check_zeroed_user must agree with memchr_inv. KUnit's window is 1024
    /// bytes (526,851 pairs); here 128 is swept in full and 1024 with every end for a stride of starts plus every
    /// start near the pattern's edges.
    /// </summary>
    [TestCase(128, 1)]
    [TestCase(1024, 61)]
    public void CheckNonzeroUser_AgreesWithMemchrInvForEveryRange(int size, int startStride)
    {
        var t = Init();
        var pattern = new byte[size];
        var zeroStart = size / 4;
        var zeroEnd = size - zeroStart;
        for (var i = 1; i < zeroStart; i += 2) pattern[i] = 0xff;
        for (var i = zeroEnd; i < size; i += 2) pattern[i] = 0xff;
        var start0 = Page - (ulong)(size / 2);
        t.M.Phys.PokeBytes(Sim.Pa(t.M, t.Kmem + start0), pattern);
        Assert.That(Run(t, () => t.M.Copy.CopyToUser(t.Umem + start0, t.Kmem + start0, (ulong)size)), Is.Zero);

        var mismatches = Run(t, () =>
        {
            var bad = new List<string>();
            // Every start on a stride, plus every start within 8 bytes of the pattern's edges and of the window's end.
            var starts = Enumerable.Range(0, size + 1).Where(s => s % startStride == 0 || Math.Abs(s - zeroStart) <= 8
                || Math.Abs(s - zeroEnd) <= 8 || Math.Abs(s - size / 2) <= 8 || s >= size - 8);
            foreach (var start in starts)
                for (var end = start; end <= size; end++)
                {
                    var expected = pattern.AsSpan(start, end - start).IndexOfAnyExcept((byte)0) < 0 ? 1 : 0;
                    var got = t.M.Usercopy.CheckZeroedUser(t.Umem + start0 + (ulong)start, (ulong)(end - start));
                    if (got != expected) bad.Add($"start={start} end={end}: {got} != {expected}");
                }
            return bad;
        });
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void CheckZeroedUser_FaultingWordAfterZeros_Efault_NonZeroWordFirst_Zero()
    {
        var t = Init();
        Assert.That(t.P.Munmap(t.Umem.Value + Page, Page), Is.Zero);
        // Zeros up to the unmapped page, then the range runs 1 byte into it: the word load there faults.
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(t.Umem + (Page - 13), 14)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(t.Umem + (Page - 13), 13)), Is.EqualTo(1));
        // A non-zero word before the faulting one ends the scan first: 0, not −EFAULT.
        Assert.That(Run(t, () => t.M.Copy.PutUser(1, t.Umem + (Page - 16), 1)), Is.Zero);
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(t.Umem + (Page - 13), 100)), Is.EqualTo(-Errno.EFAULT), "byte Page−16 lies before from, masked out");
        Assert.That(Run(t, () => t.M.Copy.PutUser(1, t.Umem + (Page - 9), 1)), Is.Zero);
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(t.Umem + (Page - 13), 100)), Is.Zero);
        // user_read_access_begin refuses a kernel range; size 0 is "all zero" without touching memory.
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(new UserPtr(t.Kmem.Value), 8)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(new UserPtr(t.Kmem.Value), 0)), Is.EqualTo(1));
    }

    // ---- usercopy_test_copy_struct_from_user ----------------------------------------------------------------

    [Test]
    public void CopyStructFromUser_TheFourKunitCases()
    {
        var t = Init();
        var size = t.Size;
        var src = t.M.Kmalloc(size)!.Value;
        Poke(t, src, 0x3e, size);
        Assert.That(Run(t, () => t.M.Copy.CopyToUser(t.Umem, src, size)), Is.Zero);

        // usize == ksize: copied verbatim.
        Poke(t, t.Kmem, 0, size);
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, size, t.Umem, size)), Is.Zero);
        Assert.That(Kernel(t, t.Kmem, size), Is.All.EqualTo((byte)0x3e));

        // Old userspace (usize < ksize): the kernel's extra bytes are zeroed.
        Poke(t, t.Kmem, 0xaa, size);
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, size, t.Umem, size / 2)), Is.Zero);
        Assert.That(Kernel(t, t.Kmem, size / 2), Is.All.EqualTo((byte)0x3e));
        Assert.That(Kernel(t, t.Kmem + size / 2, size / 2), Is.All.EqualTo((byte)0));

        // New userspace (usize > ksize) with non-zero trailing bytes: −E2BIG, nothing copied.
        Poke(t, t.Kmem, 0, size);
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, size / 2, t.Umem, size)), Is.EqualTo(-Errno.E2BIG));
        Assert.That(Kernel(t, t.Kmem, size), Is.All.EqualTo((byte)0));

        // New userspace with zeroed trailing bytes: ksize bytes copied, the rest of kmem untouched.
        Assert.That(Run(t, () => t.M.Copy.ClearUser(t.Umem + size / 2, size - size / 2)), Is.Zero);
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, size / 2, t.Umem, size)), Is.Zero);
        Assert.That(Kernel(t, t.Kmem, size / 2), Is.All.EqualTo((byte)0x3e));
        Assert.That(Kernel(t, t.Kmem + size / 2, size / 2), Is.All.EqualTo((byte)0));
    }

    [Test]
    public void CopyStructFromUser_KsizeBeyondTheObject_E2bigFrom63_OverrunsBefore()
    {
        foreach (var (kernel, expected) in new[] { ("6.12", -Errno.E2BIG), ("6.1", 0) })
        {
            var t = Init(kernel);
            Poke(t, t.Kmem, 0xaa, 64);
            Assert.That(Run(t, () => t.M.Copy.ClearUser(t.Umem, 64)), Is.Zero);
            Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, 48, t.Umem, 16, dstObjectSize: 32)), Is.EqualTo(expected), kernel);
            var got = Kernel(t, t.Kmem, 64);
            if (expected == 0) Assert.That(got[..48], Is.All.EqualTo((byte)0), "6.1: memset and copy run past the 32-byte object");
            else
            {
                Assert.That(got, Is.All.EqualTo((byte)0xaa), "6.12: nothing touched");
                Assert.That(t.M.State.Dmesg, Has.One.StartsWith("WARNING: at include/linux/uaccess.h copy_struct_from_user"));
            }
            Assert.That(got[48..], Is.All.EqualTo((byte)0xaa));
        }
    }

    [Test]
    public void CopyStructFromUser_Faults_EfaultWithTheZeroFillRules()
    {
        var t = Init();
        Assert.That(t.P.Fill(t.Umem, Page, _ => 0x11).Completed(Page), Is.True);
        Assert.That(t.P.Munmap(t.Umem.Value + Page, Page), Is.Zero);
        // usize > ksize, trailing bytes zero up to the unmapped page and running into it: check_zeroed_user → −EFAULT.
        Assert.That(Run(t, () => t.M.Copy.ClearUser(t.Umem + (Page - 64), 64)), Is.Zero);
        Poke(t, t.Kmem, 0xaa, 256);
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, 32, t.Umem + (Page - 96), 128)), Is.EqualTo(-Errno.EFAULT));
        Assert.That(Kernel(t, t.Kmem, 256), Is.All.EqualTo((byte)0xaa), "nothing copied");
        // usize < ksize, the user struct runs into the unmapped page: the tail memset, then copy_from_user zero-fills.
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, 128, t.Umem + (Page - 80), 100)), Is.EqualTo(-Errno.EFAULT));
        var got = Kernel(t, t.Kmem, 256);
        Assert.That(got[..16], Is.All.EqualTo((byte)0x11), "copied: the 0x11 bytes");
        Assert.That(got[16..80], Is.All.EqualTo((byte)0), "copied: the cleared bytes up to the page");
        Assert.That(got[80..100], Is.All.EqualTo((byte)0), "copy_from_user's zero-fill");
        Assert.That(got[100..128], Is.All.EqualTo((byte)0), "the ksize − usize memset");
        Assert.That(got[128..], Is.All.EqualTo((byte)0xaa));
    }

    [Test]
    public void CheckZeroedUserAndCopyStructFromUser_Before54_Enosys()
    {
        var t = Init("4.18");
        Assert.That(Run(t, () => t.M.Usercopy.CheckZeroedUser(t.Umem, 8)), Is.EqualTo(-Errno.ENOSYS));
        Assert.That(Run(t, () => t.M.Usercopy.CopyStructFromUser(t.Kmem, 8, t.Umem, 8)), Is.EqualTo(-Errno.ENOSYS));
    }
}
