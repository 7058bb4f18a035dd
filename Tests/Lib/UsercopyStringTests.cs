using System.Text;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Lib;

/// <summary>
/// strncpy_from_user, strnlen_user, unsafe_get_user / unsafe_put_user blocks and copy_in_user (C9, C12–C14): exact
/// return values and the kernel buffer image, on a user page followed by an unmapped one.
/// </summary>
public class UsercopyStringTests
{
    private const ulong Page = PageDefs.PAGE_SIZE;

    private sealed record Env(Machine M, Process P, UserPtr Edge, KernelPtr Dst);

    /// <summary>One user page (zeroed) followed by an unmapped page; Edge is its first byte. Dst is 64 bytes of 0xee.</summary>
    private static Env Boot(string kernel = "6.12")
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn();
        var two = p.MapAnonymous(2 * Page);
        Assert.That(p.Munmap(two.Value + Page, Page), Is.Zero);
        return new Env(m, p, two + Page, Sim.KernelFilled(m, 64, 0xee));
    }

    private static void Put(Env e, UserPtr at, string s) => Assert.That(e.P.Store(at, Encoding.ASCII.GetBytes(s)).Completed((ulong)s.Length), Is.True);

    private static T Run<T>(Env e, Func<T> body)
    {
        var r = e.M.Run(e.P, "t", body);
        Assert.That(r.Returned, Is.True, r.Outcome);
        return r.Value;
    }

    private static byte[] Dst(Env e) => Sim.ReadKernel(e.M, e.Dst, 64);

    // ---- strncpy_from_user --------------------------------------------------------------------------------

    [Test]
    public void StrncpyFromUser_WordWithNul_ReturnsLength_BytesAfterNulZeroedFrom511()
    {
        foreach (var kernel in new[] { "6.12", "5.10" })
        {
            var e = Boot(kernel);
            var src = e.Edge - 256UL;
            Put(e, src, "hello\0XYtail\0");
            Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, src, 64)), Is.EqualTo(5L), kernel);
            var got = Dst(e);
            Assert.That(Encoding.ASCII.GetString(got, 0, 6), Is.EqualTo("hello\0"));
            // The whole word is stored: bytes 6 and 7 are the user's "XY" before 5.11, zero after.
            Assert.That(got[6..8], Is.EqualTo(kernel == "5.10" ? "XY"u8.ToArray() : new byte[2]), kernel);
            Assert.That(got[8..], Is.All.EqualTo((byte)0xee), $"{kernel}: nothing past the word");
        }
    }

    [Test]
    public void StrncpyFromUser_CountReachedBeforeNul_ReturnsCountUnterminated()
    {
        var e = Boot();
        var src = e.Edge - 256UL;
        Put(e, src, "abcdefghijkl\0");
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, src, 5)), Is.EqualTo(5L));
        Assert.That(Encoding.ASCII.GetString(Dst(e), 0, 5), Is.EqualTo("abcde"));
        Assert.That(Dst(e)[5..], Is.All.EqualTo((byte)0xee), "count < 8: byte loop, no terminator");
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, src, 8)), Is.EqualTo(8L));
        Assert.That(Dst(e)[8..], Is.All.EqualTo((byte)0xee));
    }

    [Test]
    public void StrncpyFromUser_StringRunsIntoUnmappedPage_EfaultWithTheAccessibleBytesCopied()
    {
        var e = Boot();
        var src = e.Edge - 13UL;
        Put(e, src, "ABCDEFGHIJKLM"); // 13 bytes, no NUL before the unmapped page
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, src, 100)), Is.EqualTo((long)-Errno.EFAULT));
        var got = Dst(e);
        Assert.That(Encoding.ASCII.GetString(got, 0, 13), Is.EqualTo("ABCDEFGHIJKLM"), "word 0, then bytes 8–12 after word 1 faulted");
        Assert.That(got[13..], Is.All.EqualTo((byte)0xee));
    }

    [Test]
    public void StrncpyFromUser_NulJustBeforeUnmappedPage_FoundByTheByteLoop()
    {
        var e = Boot();
        var src = e.Edge - 13UL;
        Put(e, src, "ABCDEFGHIJKL\0");
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, src, 100)), Is.EqualTo(12L));
        Assert.That(Encoding.ASCII.GetString(Dst(e), 0, 13), Is.EqualTo("ABCDEFGHIJKL\0"));
        Assert.That(Dst(e)[13..], Is.All.EqualTo((byte)0xee));
    }

    [Test]
    public void StrncpyFromUser_BadArguments()
    {
        var e = Boot();
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, e.Edge - 8UL, 0)), Is.Zero);
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, e.Edge - 8UL, -1)), Is.Zero);
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, new UserPtr(e.Dst.Value), 16)), Is.EqualTo((long)-Errno.EFAULT));
        Assert.That(Run(e, () => e.M.Usercopy.StrncpyFromUser(e.Dst, e.Edge, 16)), Is.EqualTo((long)-Errno.EFAULT), "unmapped");
        Assert.That(Dst(e), Is.All.EqualTo((byte)0xee));
    }

    // ---- strnlen_user ------------------------------------------------------------------------------------

    [TestCase(256UL, 64L, 6L)]
    [TestCase(253UL, 64L, 6L)] // unaligned start: the word is read from str & ~7 with the leading bytes masked
    [TestCase(256UL, 3L, 6L)]  // NUL inside the one aligned word read: the documented overshoot (> count)
    [TestCase(256UL, 5L, 6L)]
    public void StrnlenUser_Hello(ulong back, long count, long expected)
    {
        var e = Boot();
        Put(e, e.Edge - back, "hello\0");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - back, count)), Is.EqualTo(expected));
    }

    [Test]
    public void StrnlenUser_TooLong_CountPlusOne_Fault_Zero()
    {
        var e = Boot();
        Put(e, e.Edge - 256UL, "abcdefghijklmnopqrstuvwxyz\0");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 256UL, 3)), Is.EqualTo(4L), "no NUL in the word: count + 1");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 256UL, 10)), Is.EqualTo(11L));
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 256UL, 27)), Is.EqualTo(27L));
        Put(e, e.Edge - 13UL, "ABCDEFGHIJKLM");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 13UL, 100)), Is.Zero, "runs into the unmapped page");
        Put(e, e.Edge - 13UL, "ABCDEFGHIJKL\0");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 13UL, 100)), Is.EqualTo(13L));
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(new UserPtr(e.Dst.Value), 100)), Is.Zero, "kernel address");
        Assert.That(Run(e, () => e.M.Usercopy.StrnlenUser(e.Edge - 13UL, 0)), Is.Zero);
    }

    // ---- user_access_begin / unsafe_get_user / unsafe_put_user / user_access_end ----------------------------

    [Test]
    public void UnsafeGetPutUser_InsideABlock_FaultIsTheErrorLabel()
    {
        var e = Boot();
        var (begun, put, get, value, straddle, straddleValue, putStraddle) = Run(e, () =>
        {
            var c = e.M.Copy;
            if (!c.UserAccessBegin(e.Edge - 16UL, 16)) return (false, 0, 0, 0UL, 0, 0UL, 0);
            var p = c.UnsafePutUser(0x1122334455667788, e.Edge - 16UL, 8);
            var g = c.UnsafeGetUser(e.Edge - 16UL, 8, out var v);
            var s = c.UnsafeGetUser(e.Edge - 4UL, 8, out var sv); // crosses into the unmapped page
            var ps = c.UnsafePutUser(ulong.MaxValue, e.Edge - 2UL, 4);
            c.UserAccessEnd();
            return (true, p, g, v, s, sv, ps);
        });
        Assert.That(begun, Is.True);
        Assert.That((put, get, value), Is.EqualTo((0, 0, 0x1122334455667788UL)));
        Assert.That((straddle, straddleValue), Is.EqualTo((-Errno.EFAULT, 0UL)));
        Assert.That(putStraddle, Is.EqualTo(-Errno.EFAULT));
        Assert.That(e.P.Peek(e.Edge - 2UL, 2), Is.EqualTo(new byte?[] { 0, 0 }), "no partial store");
        Assert.That(Run(e, () => e.M.Copy.UserAccessBegin(new UserPtr(e.Dst.Value), 8)), Is.False, "access_ok refuses a kernel range");
        Assert.That(Run(e, () => e.M.Copy.UnsafeGetUser(e.Edge - 8UL, 3, out _)), Is.EqualTo(-Errno.EINVAL));
    }

    // ---- copy_in_user ------------------------------------------------------------------------------------------

    [Test]
    public void CopyInUser_UpTo514_ByteExact_AccessOk_RemovedIn515()
    {
        var e = Boot("5.10");
        var src = e.Edge - 1024UL;
        Assert.That(e.P.Fill(src, 512, i => (byte)(i + 1)).Completed(512), Is.True);
        Assert.That(Run(e, () => e.M.Copy.CopyInUser(e.Edge - 100UL, src, 256)), Is.EqualTo(156L), "destination stops at the unmapped page");
        Assert.That(e.P.Peek(e.Edge - 100UL, 100).Select(b => b!.Value), Is.EqualTo(Enumerable.Range(1, 100).Select(i => (byte)i)));
        Assert.That(Run(e, () => e.M.Copy.CopyInUser(e.Edge - 512UL, e.Edge - 40UL, 100)), Is.EqualTo(60L), "source stops at the unmapped page");
        Assert.That(Run(e, () => e.M.Copy.CopyInUser(new UserPtr(e.Dst.Value), src, 16)), Is.EqualTo(16L), "access_ok(to) fails");
        Assert.That(Run(e, () => e.M.Copy.CopyInUser(src, new UserPtr(e.Dst.Value), 16)), Is.EqualTo(16L), "access_ok(from) fails");
        Assert.That(Sim.ReadKernel(e.M, e.Dst, 64), Is.All.EqualTo((byte)0xee));

        var later = Boot("5.15");
        Assert.That(Run(later, () => later.M.Copy.CopyInUser(later.Edge - 64UL, later.Edge - 128UL, 8)), Is.EqualTo((long)-Errno.ENOSYS));
    }
}
