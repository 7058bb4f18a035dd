using System.Reflection;
using static KernelSim.Profiles.KernelVersion;

namespace KernelSim.Profiles;

/// <summary>
/// The behaviour of one kernel release: one named switch per difference between releases, listed in
/// docs/kernel/eras.md. Built from a version with <see cref="ForVersion(KernelVersion)"/>; any switch can be overridden with
/// a <c>with</c> expression for what-if experiments.
/// </summary>
public sealed record KernelProfile
{
    /// <summary>The release this profile models.</summary>
    public required KernelVersion Version { get; init; }

    /// <summary>The era (E0–E5, docs/kernel/eras.md) of <see cref="Version"/>.</summary>
    public string Era => Version switch
    {
        var v when v <= V(4, 17) => "E0",
        var v when v <= V(5, 9) => "E1",
        var v when v <= V(5, 16) => "E2",
        var v when v <= V(5, 18) => "E3",
        var v when v <= V(6, 4) => "E4",
        _ => "E5",
    };

    // ---- arch/x86/lib: machine-check-safe copies -------------------------------------------

    [KernelSwitch("4.18+", "memcpy_mcsafe/__memcpy_mcsafe return bytes remaining (A15); before, memcpy_mcsafe_unrolled returns 0 or -EFAULT (A14)")]
    public bool McsafeReturnsRemaining { get; init; }

    [KernelSwitch("5.10+", "copy_mc_to_{kernel,user} use copy_mc_enhanced_fast_string (rep movsb) on ERMS CPUs; before, memcpy_mcsafe falls back to memcpy unless mcsafe_key is on (A1, A16)")]
    public bool CopyMcFastString { get; init; }

    [KernelSwitch("4.20+ (≈)", "copy_to_user_mcsafe always calls __memcpy_mcsafe, never the memcpy fallback (A15)")]
    public bool CopyToUserMcsafeAlwaysCareful { get; init; }

    [KernelSwitch("5.17+", "typed exception-table entries (EX_TYPE_*); before, handler functions (A17)")]
    public bool TypedExtable { get; init; }

    // ---- include/linux/uaccess.h, lib/usercopy.c, lib/strncpy_from_user.c ----------------------------

    [KernelSwitch("5.4+", "check_zeroed_user and copy_struct_from_user exist (f5a1a536fa14 'lib: introduce copy_struct_from_user() helper'); before, they are refused with -ENOSYS (C10, C11)")]
    public bool CopyStructFromUser { get; init; }

    [KernelSwitch("6.3+ (≈, stable backports)", "copy_struct_from_user WARNs and returns -E2BIG when ksize exceeds __builtin_object_size(dst, 1) (Kees Cook, 'uaccess: Add minimum bounds check on kernel buffer size') (C11)")]
    public bool CopyStructFromUserObjectSizeCheck { get; init; }

    [KernelSwitch("5.11+ (≈)", "strncpy_from_user zeroes the bytes after the NUL in the last word it stores ('lib/strncpy_from_user.c: Mask out bytes after NUL terminator'); before, the whole user word is stored (C12)")]
    public bool StrncpyFromUserMasksAfterNul { get; init; }

    [KernelSwitch("≤5.14", "copy_in_user (CONFIG_COMPAT) exists; removed with compat_alloc_user_space in 5.15 (≈, Arnd Bergmann 'arch: remove compat_alloc_user_space') (C14)")]
    public bool CopyInUser { get; init; }

    // ---- arch/x86/kernel/cpu/mce -------------------------------------------------------------

    [KernelSwitch("≤5.9 Panic, 5.10–5.15 SigbusAr, 5.16+ KillMeNever", "a #MC in copy_from_user (B6)")]
    public CopyInMcMode CopyInMc { get; init; }

    [KernelSwitch("5.10–5.14 PretendSuccess, 5.15–5.16 RetryAfterMc, 5.17–6.3 SkipRetryOnMc, 6.4+ RepMovsAlternative", "copy_user_generic tail handling after #MC (C5)")]
    public CopyUserMcTail CopyUserMcTail { get; init; }

    [KernelSwitch("6.15+", "error_context: is_copy_from_user() sets COPYIN regardless of the fixup type (B1, Shuai Xue 2025)")]
    public bool IsCopyFromUserAuthoritative { get; init; }

    [KernelSwitch("5.15+ (≈)", "queue_task_work counts machine checks: >10 or a different page → panic (B5); before, a second task_work_add of mce_kill_me corrupts the list")]
    public bool MceCountLimit { get; init; }

    [KernelSwitch("6.0+", "quirk_skylake_repmov: a fast-string #MC on the line after the copy disables fast strings (A11)")]
    public bool SkylakeRepmovQuirk { get; init; }

    // ---- mm/memory-failure.c, madvise -----------------------------------------------------------

    [KernelSwitch("4.19+", "memory_failure_dev_pagemap handles ZONE_DEVICE (pmem) pages (MF9); before, 'Memory error not recovered' → plain SIGBUS")]
    public bool MemoryFailureDevPagemap { get; init; }

    [KernelSwitch("5.19+", "set_mce_nospec always unmaps the page from the direct map (MF10); before, UC for a partial-page error")]
    public bool SetMceNospecAlwaysUnmap { get; init; }

    [KernelSwitch("5.19+ (≈)", "madvise(MADV_HWPOISON) passes MF_SW_SIMULATED (MF14)")]
    public bool MadviseHwpoisonSwSimulated { get; init; }

    [KernelSwitch("6.11+ (≈, Jane Chu 2024)", "madvise(MADV_HWPOISON) passes MF_ACTION_REQUIRED, so the caller gets SIGBUS AR (MF14)")]
    public bool MadviseHwpoisonActionRequired { get; init; }

    [KernelSwitch("5.13+", "memory_failure on an already-poisoned page with MF_ACTION_REQUIRED calls kill_accessing_process and returns -EHWPOISON; 5.10 returned 0 and sent nothing (the task re-faults)")]
    public bool AlreadyPoisonedKillsAccessor { get; init; }

    [KernelSwitch("6.12+ (≈)", "do_cow_fault copies the page-cache page with copy_mc_user_highpage: poison → VM_FAULT_HWPOISON and memory_failure_queue (aa549f923f5e 'mm: support poison recovery from do_cow_fault()'); before, copy_user_highpage: a fatal kernel machine check (MF16)")]
    public bool CowFaultCopyMc { get; init; }

    // ---- mm: fork, mremap, madvise populate, placement, THP sysfs (docs/kernel/mm.md) --------------------

    [KernelSwitch("6.1+", "wp_page_copy copies a copy-on-write page with copy_mc_user_highpage: poison → VM_FAULT_HWPOISON and memory_failure_queue (a873dfe1032a 'mm, hwpoison: try to recover from copy-on write faults'); before, copy_user_highpage: a fatal kernel machine check (MM3)")]
    public bool WpPageCopyMc { get; init; }

    [KernelSwitch("5.7+", "mremap accepts MREMAP_DONTUNMAP (e346b3813067 'mm/mremap: add MREMAP_DONTUNMAP to mremap()'); before, -EINVAL (MM5)")]
    public bool MremapDontunmap { get; init; }

    [KernelSwitch("5.13+ (≈)", "MREMAP_DONTUNMAP works on any mapping without VM_DONTEXPAND/VM_PFNMAP (a4609387859f 'mm: extend MREMAP_DONTUNMAP to non-anonymous mappings'); before, private anonymous mappings only, else -EINVAL (MM5)")]
    public bool MremapDontunmapAnyMapping { get; init; }

    [KernelSwitch("5.16+ (≈)", "mremap looks the VMA up before anything else (550a7d60bd5e 'mm, hugepages: add mremap() support for hugepage backed vma'): no VMA at the address → -EFAULT even for a shrink; before, a shrink of an unmapped range returns the address (MM5)")]
    public bool MremapLooksUpVmaFirst { get; init; }

    [KernelSwitch("5.14+", "madvise accepts MADV_POPULATE_READ / MADV_POPULATE_WRITE (4ca9b3859dac 'mm/madvise: introduce MADV_POPULATE_(READ,WRITE) to prefault page tables'); before, -EINVAL (MM7)")]
    public bool MadvisePopulate { get; init; }

    [KernelSwitch("6.9+", "MADV_POPULATE_* stops with -ENOMEM at the first unmapped gap (631426ba1d45 'mm/madvise: make MADV_POPULATE_(READ,WRITE) handle VM_FAULT_RETRY properly'); before, madvise's VMA walk skips the gap, populates the VMAs after it and returns -ENOMEM at the end (MM7)")]
    public bool MadvisePopulateStopsAtGap { get; init; }

    [KernelSwitch("5.4+ (≈)", "thp_get_unmapped_area tries the address hint with the padded length and keeps it when it succeeds (97d3d0f9a1cf 'thp: fix conflict of above-47bit hint address and PMD alignment'); before, any hint skips the alignment (MM9)")]
    public bool ThpGetUnmappedAreaTriesHint { get; init; }

    [KernelSwitch("5.18+", "thp_get_unmapped_area aligns every file whose f_op uses it (1854bc6e2420 'mm/readahead: Align file mappings for non-DAX'); before, DAX inodes only (MM9)")]
    public bool ThpGetUnmappedAreaAnyFile { get; init; }

    [KernelSwitch("6.8+", "thp_get_unmapped_area moves an already aligned top-down result up by 2 MiB (96204e153543 'mm: thp_get_unmapped_area must honour topdown preference') (MM9)")]
    public bool ThpGetUnmappedAreaTopdownPad { get; init; }

    [KernelSwitch("6.7+", "private anonymous mappings go through thp_get_unmapped_area, so one that can hold an aligned 2 MiB extent lands on 2 MiB (efa7df3e3bb5 'mm: align larger anonymous mappings on THP boundaries') (MM10)")]
    public bool AnonThpAlign { get; init; }

    [KernelSwitch("6.12+", "only anonymous lengths that are multiples of 2 MiB are aligned (d4148aeab412 'mm, mmap: limit THP alignment of anonymous mappings to PMD-aligned sizes') (MM10)")]
    public bool AnonThpAlignPmdMultipleOnly { get; init; }

    [KernelSwitch("6.13+ (≈)", "an anonymous mapping with an address hint is not aligned (249608ee4713 'mm: respect mmap hint address when aligning for THP') (MM10)")]
    public bool AnonThpAlignNotWithHint { get; init; }

    [KernelSwitch("5.3+", "smaps prints THPeligible per VMA (7635d9cbe832 'mm, thp, proc: report THP eligibility for each vma') (MM12)")]
    public bool SmapsThpEligible { get; init; }

    [KernelSwitch("5.4+", "smaps prints FilePmdMapped ('mm,thp: stats for file backed THP') (MM12)")]
    public bool SmapsFilePmdMapped { get; init; }

    [KernelSwitch("6.0+ (≈)", "smaps prints Pss_Dirty after Pss ('mm/smaps: add Pss_Dirty') (MM12)")]
    public bool SmapsPssDirty { get; init; }

    [KernelSwitch("6.6+", "smaps prints KSM after Anonymous ('proc/ksm: add ksm stats to /proc/pid/smaps') (MM12)")]
    public bool SmapsKsm { get; init; }

    [KernelSwitch("6.8+ (≈)", "smaps prints THPeligible as %8u (thp_vma_allowable_orders, the multi-size THP series); before, %d (MM12)")]
    public bool SmapsThpEligibleWidth8 { get; init; }

    [KernelSwitch("6.8+ (≈)", "the files hugepages-<size>kB/enabled in /sys/kernel/mm/transparent_hugepage exist for the anonymous multi-size THP orders 16 kB–2 MiB (19eaf44954df 'mm: thp: support allocation of anonymous multi-size THP') (MM11)")]
    public bool ThpPerSizeEnabled { get; init; }

    [KernelSwitch("5.6+", "the files enabled and defrag in /sys/kernel/mm/transparent_hugepage compare the written word with sysfs_streq (f42f25526502 'mm, thp: fix defrag setting if newline is not used'); before, memcmp over min(len, count) bytes, so a prefix matches (MM11)")]
    public bool ThpSysfsStreq { get; init; }
    [KernelSwitch("6.11+", "the sysctl vm.enable_soft_offline exists (Jiaqi Yan, 'mm/memory-failure: userspace controls soft-offlining pages'); 0 makes soft_offline_page return -EOPNOTSUPP (MF19)")]
    public bool EnableSoftOfflineSysctl { get; init; }

    [KernelSwitch("none (what-if)", "the sysctl vm.panic_on_unrecoverable_memory_failure (Breno Leitao, in the mm tree in 2026, in no release up to 7.1): an ignored reserved kernel page panics (MF20)")]
    public bool PanicOnUnrecoverableMf { get; init; }

    [KernelSwitch("6.1+", "hugetlbfs_error_remove_folio keeps a poisoned huge page in the page cache (8625147cafaa 'hugetlbfs: don't delete error page from pagecache'); before, it is removed and the file reads zeros there (MF22)")]
    public bool HugetlbfsKeepsErrorPage { get; init; }

    [KernelSwitch("6.6+ (≈)", "hugetlbfs_read_iter returns the bytes before the first raw HWPoison subpage (38c1ddbde6c6 'hugetlbfs: improve read HWPOISON hugepage'); before, -EIO for the whole huge page (MF22)")]
    public bool HugetlbfsReadPartialHwpoison { get; init; }

    // ---- lib/iov_iter.c ---------------------------------------------------------------------------

    [KernelSwitch("4.18–5.13", "_copy_to_iter_mcsafe/_copy_mc_to_iter KVEC/BVEC: right count, iterator not advanced (D12)")]
    public bool KvecBvecMcNoAdvance { get; init; }

    [KernelSwitch("5.14+", "iov_iter_advance skips zero-length segments after the landing point (D16)")]
    public bool IovIterAdvanceSkipsEmpty { get; init; }

    [KernelSwitch("6.0+", "ITER_UBUF exists; read/write and single-segment readv/writev import as UBUF (D1, D23)")]
    public bool UbufIter { get; init; }

    [KernelSwitch("6.1+ (≈)", "a copy in the wrong direction WARNs and returns 0 (D2)")]
    public bool IovIterDirectionCheck { get; init; }

    [KernelSwitch("5.14+", "copy_page_from_iter_atomic advances the iterator; before, iov_iter_copy_from_user_atomic did not (D15)")]
    public bool CopyFromIterAtomicAdvances { get; init; }

    [KernelSwitch("6.15+ (≈, folio_test_partial_kmap)", "copy_folio_from_iter_atomic retries after a short non-zero copy on every folio; before, the loop ran only for highmem pages, i.e. one __copy_from_iter call on x86-64 (D15)")]
    public bool CopyFolioFromIterAtomicRetries { get; init; }

    [KernelSwitch("6.0+", "iov_iter_get_pages2 advances the iterator (D22)")]
    public bool GetPagesAdvances { get; init; }

    [KernelSwitch("5.13+ (≈)", "ITER_XARRAY and iov_iter_xarray exist (D24); before, constructing one is refused with -ENOSYS")]
    public bool XarrayIter { get; init; }

    [KernelSwitch("6.12+", "ITER_FOLIOQ, struct folio_queue and iov_iter_folio_queue exist (D24); before, constructing one is refused with -ENOSYS")]
    public bool FolioqIter { get; init; }

    [KernelSwitch("6.3+", "iov_iter_extract_pages, iov_iter_extract_will_pin and extract_iter_to_sg exist (D26, SG3; netfs_extract_iter_to_sg in fs/netfs until 6.5); before, -ENOSYS")]
    public bool IovIterExtract { get; init; }

    [KernelSwitch("6.3–7.0", "extract_kvec_to_sg gives each page's entry the rest of the segment as its length (SG4; fixed by 07b7d66e65d9, 2026)")]
    public bool ExtractKvecToSgOverlong { get; init; }

    // ---- mm/gup.c fault-in, mm/filemap.c ----------------------------------------------------------

    [KernelSwitch("5.16+", "fault_in_{readable,writeable} return bytes not faulted in; before, fault_in_pages_* return 0/-EFAULT (FI1, FI3)")]
    public bool FaultInReturnsBytes { get; init; }

    [KernelSwitch("5.16–6.15", "fault_in_safe_writeable reports 0 for any failure after the first page (FI1, fixed by Baoquan He 2025)")]
    public bool FaultInSafeWriteableBug { get; init; }

    [KernelSwitch("≤5.13 Pre514, 5.14–5.17 PreFaultAnyFailure, 5.18–6.14 PreFaultNothingFaultedIn (631f871f0717), 6.15+ PostFault (665575cff098, ≈)", "generic_perform_write form (F1–F3)")]
    public PerformWriteMode PerformWrite { get; init; }

    // ---- drivers/nvdimm, drivers/dax, fs/dax.c -----------------------------------------------------

    [KernelSwitch("4.18+", "fsdax reads use the machine-check-safe copy (dax_copy_to_iter); before, plain copy_to_iter (E0 panic)")]
    public bool DaxReadMcSafe { get; init; }

    [KernelSwitch("5.17+", "DAXDEV_NOMC / DAXDEV_NOCACHE flags replace the per-driver copy ops (G1)")]
    public bool DaxDevFlags { get; init; }

    [KernelSwitch("5.19+", "DAX recovery write; pmem clears poison before writing; notify_failure (E4)")]
    public bool DaxRecoveryWrite { get; init; }

    [KernelSwitch("6.5+", "__pmem_direct_access returns -EHWPOISON; DAX faults give VM_FAULT_HWPOISON (E5)")]
    public bool PmemDirectAccessEhwpoison { get; init; }

    [KernelSwitch("5.17+ (≈)", "device-dax pages are compound per alignment: only the head gets page->index and memory_failure signals for the head, i.e. the start of the mapping block; before, every page is indexed and the poisoned page itself is named (DD7)")]
    public bool DevDaxCompoundHead { get; init; }

    [KernelSwitch("5.17–6.11 (≈, b9b5777f09be until 7fcbd9785d4c)", "dax_set_mapping indexes the head from ALIGN(address, fault size) — the next block for an unaligned fault address — instead of ALIGN_DOWN (DD7)")]
    public bool DevDaxPgoffAlignUp { get; init; }

    [KernelSwitch("5.15–5.19", "dax_iomap_rw loops forever (iomap WARNING) on a zero-length request: ca289e0b95af until 17d9c15c9b9e 'fsdax: Fix infinite loop in dax_iomap_rw()' (virtio-fs S11; 5.15.y fixed Sept 2022)")]
    public bool DaxIomapRwZeroLengthLoops { get; init; }

    [KernelSwitch("5.17+ (≈)", "virtio-fs accepts dax=always, dax=never and dax=inode and negotiates FUSE_INIT_EXT / FUSE_HAS_INODE_DAX (per-inode DAX, protocol 7.36); before, only the 'dax' flag (virtio-fs VF5)")]
    public bool VirtioFsDaxModes { get; init; }

    // ---- fs/stat.c, fs/ioctl.c, fs/sync.c: the VFS calls of the per-inode DAX tests -----------------------------

    [KernelSwitch("5.8+", "vfs_getattr_nosec sets STATX_ATTR_DAX for an S_DAX inode (712b2698e4c0 'fs/stat: Define DAX statx attribute') (DX5)")]
    public bool StatxAttrDax { get; init; }

    [KernelSwitch("5.10+", "STATX_ATTR_DAX is 0x200000 (72d1249e2ffd 'uapi: fix statx attribute value overlap for DAX & MOUNT_ROOT'); in 5.8 and 5.9 it was 0x2000, the value of STATX_ATTR_MOUNT_ROOT (DX5)")]
    public bool StatxAttrDaxOwnBit { get; init; }

    /// <summary>The STATX_ATTR_DAX value of this release (0 before 5.8).</summary>
    public ulong StatxAttrDaxValue => !StatxAttrDax ? 0 : StatxAttrDaxOwnBit ? 0x200000UL : 0x2000UL;

    [KernelSwitch("5.13+ (≈, stable backports)", "vfs_getattr_nosec sets STATX_ATTR_AUTOMOUNT and STATX_ATTR_DAX in stx_attributes_mask (5afa7e8b70d6 'fs: fix reporting supported extra file attributes for statx()'); before, the bits could be set while the mask said 'unsupported' (DX5)")]
    public bool StatxAttrMaskVfsBits { get; init; }

    [KernelSwitch("5.8+", "vfs_statx reports STATX_MNT_ID (stx_mnt_id) and STATX_ATTR_MOUNT_ROOT (with its attributes_mask bit) (DX6)")]
    public bool StatxMountId { get; init; }

    [KernelSwitch("5.8+ (≈, XFS 5.8, ext4 5.9)", "dax=inode mount option, FS_XFLAG_DAX settable and inherited on create, S_DAX chosen when the inode is loaded and d_mark_dontcache after a change (DX1–DX4); before, dax=inode is an unknown option and FS_XFLAG_DAX is -EOPNOTSUPP")]
    public bool DaxInodeMode { get; init; }

    [KernelSwitch("5.5+ (≈)", "ioctl_fibmap checks CAP_SYS_RAWIO first, rejects a negative block (-EINVAL), returns bmap()'s error with 0 stored and -ERANGE past INT_MAX (Carlos Maiolino's fibmap series); before, a missing ->bmap is -EINVAL before the capability check and the result is stored as is (DX7)")]
    public bool FibmapViaBmap { get; init; }

    [KernelSwitch("≤5.12 (≈)", "fs/dax.c traces dax_insert_mapping and dax_pmd_insert_mapping when it maps a pfn; the dax_fault_actor rework (Shiyang Ruan, 5.13) dropped both calls (DX11)")]
    public bool DaxInsertMappingTrace { get; init; }

    [KernelSwitch("5.8+", "syncfs(2) also reports the superblock's writeback error once per file (735e4ae5ba28 'vfs: track per-sb writeback errors and report them to syncfs'); before, only sync_filesystem's result (DX9)")]
    public bool SyncfsReportsWbErr { get; init; }
    [KernelSwitch("5.17+", "shmem keeps a poisoned folio in the page cache (shmem_error_remove_folio): read/write -EIO, fault SIGBUS BUS_MCEERR_AR until truncated (a7605426666 'mm: shmem: don't truncate page if memory failure happens', SH2); before, generic_error_remove_page truncates it and the data reads back as zeros")]
    public bool ShmemKeepsHwpoisonFolio { get; init; }

    [KernelSwitch("5.1+", "F_SEAL_FUTURE_WRITE exists (ab3948f58ff8 'mm/memfd: add an F_SEAL_FUTURE_WRITE seal to memfd', SH7); before, F_ADD_SEALS with it is -EINVAL")]
    public bool SealFutureWrite { get; init; }

    [KernelSwitch("6.3+", "memfd_create accepts MFD_NOEXEC_SEAL and MFD_EXEC and F_SEAL_EXEC exists (105ff5339f49 'mm/memfd: add MFD_NOEXEC_SEAL and MFD_EXEC', SH6); before, both flags are unknown: -EINVAL")]
    public bool MemfdExecFlags { get; init; }

    /// <summary>The profile of a release, with every switch set as that release behaves.</summary>
    public static KernelProfile ForVersion(KernelVersion v) => new()
    {
        Version = v,
        McsafeReturnsRemaining = v >= V(4, 18),
        CopyMcFastString = v >= V(5, 10),
        CopyToUserMcsafeAlwaysCareful = v >= V(4, 20),
        TypedExtable = v >= V(5, 17),
        CopyStructFromUser = v >= V(5, 4),
        CopyStructFromUserObjectSizeCheck = v >= V(6, 3),
        StrncpyFromUserMasksAfterNul = v >= V(5, 11),
        CopyInUser = v <= V(5, 14),
        CopyInMc = v <= V(5, 9) ? CopyInMcMode.Panic : v <= V(5, 15) ? CopyInMcMode.SigbusAr : CopyInMcMode.KillMeNever,
        CopyUserMcTail = v <= V(5, 14) ? CopyUserMcTail.PretendSuccess
            : v <= V(5, 16) ? CopyUserMcTail.RetryAfterMc
            : v <= V(6, 3) ? CopyUserMcTail.SkipRetryOnMc
            : CopyUserMcTail.RepMovsAlternative,
        IsCopyFromUserAuthoritative = v >= V(6, 15),
        MceCountLimit = v >= V(5, 15),
        SkylakeRepmovQuirk = v >= V(6, 0),
        MemoryFailureDevPagemap = v >= V(4, 19),
        SetMceNospecAlwaysUnmap = v >= V(5, 19),
        MadviseHwpoisonSwSimulated = v >= V(5, 19),
        MadviseHwpoisonActionRequired = v >= V(6, 11),
        AlreadyPoisonedKillsAccessor = v >= V(5, 13),
        CowFaultCopyMc = v >= V(6, 12),
        WpPageCopyMc = v >= V(6, 1),
        MremapDontunmap = v >= V(5, 7),
        MremapDontunmapAnyMapping = v >= V(5, 13),
        MremapLooksUpVmaFirst = v >= V(5, 16),
        MadvisePopulate = v >= V(5, 14),
        MadvisePopulateStopsAtGap = v >= V(6, 9),
        ThpGetUnmappedAreaTriesHint = v >= V(5, 4),
        ThpGetUnmappedAreaAnyFile = v >= V(5, 18),
        ThpGetUnmappedAreaTopdownPad = v >= V(6, 8),
        AnonThpAlign = v >= V(6, 7),
        AnonThpAlignPmdMultipleOnly = v >= V(6, 12),
        AnonThpAlignNotWithHint = v >= V(6, 13),
        ThpSysfsStreq = v >= V(5, 6),
        ThpPerSizeEnabled = v >= V(6, 8),
        SmapsThpEligible = v >= V(5, 3),
        SmapsFilePmdMapped = v >= V(5, 4),
        SmapsPssDirty = v >= V(6, 0),
        SmapsKsm = v >= V(6, 6),
        SmapsThpEligibleWidth8 = v >= V(6, 8),
        EnableSoftOfflineSysctl = v >= V(6, 11),
        PanicOnUnrecoverableMf = false,
        HugetlbfsKeepsErrorPage = v >= V(6, 1),
        HugetlbfsReadPartialHwpoison = v >= V(6, 6),
        KvecBvecMcNoAdvance = v.Between(V(4, 18), V(5, 13)),
        IovIterAdvanceSkipsEmpty = v >= V(5, 14),
        UbufIter = v >= V(6, 0),
        IovIterDirectionCheck = v >= V(6, 1),
        CopyFromIterAtomicAdvances = v >= V(5, 14),
        GetPagesAdvances = v >= V(6, 0),
        XarrayIter = v >= V(5, 13),
        FolioqIter = v >= V(6, 12),
        IovIterExtract = v >= V(6, 3),
        ExtractKvecToSgOverlong = v.Between(V(6, 3), V(7, 0)),
        CopyFolioFromIterAtomicRetries = v >= V(6, 15),
        FaultInReturnsBytes = v >= V(5, 16),
        FaultInSafeWriteableBug = v.Between(V(5, 16), V(6, 15)),
        PerformWrite = v <= V(5, 13) ? PerformWriteMode.Pre514
            : v <= V(5, 17) ? PerformWriteMode.PreFaultAnyFailure
            : v <= V(6, 14) ? PerformWriteMode.PreFaultNothingFaultedIn
            : PerformWriteMode.PostFault,
        DaxReadMcSafe = v >= V(4, 18),
        DaxDevFlags = v >= V(5, 17),
        DaxRecoveryWrite = v >= V(5, 19),
        PmemDirectAccessEhwpoison = v >= V(6, 5),
        DevDaxCompoundHead = v >= V(5, 17),
        DevDaxPgoffAlignUp = v.Between(V(5, 17), V(6, 11)),
        DaxIomapRwZeroLengthLoops = v.Between(V(5, 15), V(5, 19)),
        VirtioFsDaxModes = v >= V(5, 17),
        StatxAttrDax = v >= V(5, 8),
        StatxAttrDaxOwnBit = v >= V(5, 10),
        StatxAttrMaskVfsBits = v >= V(5, 13),
        StatxMountId = v >= V(5, 8),
        DaxInodeMode = v >= V(5, 8),
        FibmapViaBmap = v >= V(5, 5),
        SyncfsReportsWbErr = v >= V(5, 8),
        DaxInsertMappingTrace = v <= V(5, 12),
        ShmemKeepsHwpoisonFolio = v >= V(5, 17),
        SealFutureWrite = v >= V(5, 1),
        MemfdExecFlags = v >= V(6, 3),
    };

    /// <summary>The profile of a release given as text ("6.12").</summary>
    public static KernelProfile ForVersion(string version) => ForVersion(KernelVersion.Parse(version));

    /// <summary>The default kernel: a current long-term release.</summary>
    public static KernelProfile Default => ForVersion(V(6, 12));

    /// <summary>Representative releases, one or more per era, as listed by <c>kernelsim profiles</c>.</summary>
    public static IReadOnlyList<KernelVersion> Known { get; } =
        [V(4, 17), V(4, 18), V(5, 10), V(5, 15), V(5, 16), V(5, 17), V(5, 19), V(6, 4), V(6, 5), V(6, 12), V(6, 15)];

    /// <summary>The oldest release modelled: 4.17, the last release before the machine-check-safe DAX read (era E0).</summary>
    public static KernelVersion Oldest => V(4, 17);

    /// <summary>The newest release modelled: 7.1, the newest release a switch names (<see cref="ExtractKvecToSgOverlong"/> ends with 7.0).</summary>
    public static KernelVersion Newest => V(7, 1);

    /// <summary>
    /// Every modelled release from <see cref="Oldest"/> to <see cref="Newest"/>, in mainline's numbering: 4.17–4.20,
    /// 5.0–5.19, 6.0–6.19, 7.0–7.1 (the major number changed after 4.20, 5.19 and 6.19).
    /// </summary>
    public static IReadOnlyList<KernelVersion> Modelled { get; } =
    [
        .. Series(4, 17, 20), .. Series(5, 0, 19), .. Series(6, 0, 19), .. Series(7, 0, 1),
    ];

    /// <summary>True when <paramref name="v"/> is one of the <see cref="Modelled"/> releases.</summary>
    public static bool IsModelled(KernelVersion v) => v >= Oldest && v <= Newest && (v.Major, v.Minor) switch
    {
        (4, <= 20) or (5, <= 19) or (6, <= 19) or (7, _) => true,
        _ => false,
    };

    /// <summary>The modelled releases as text, for messages: "4.17–4.20, 5.0–5.19, 6.0–6.19 and 7.0–7.1".</summary>
    public static string ModelledRange => $"{Oldest}–4.20, 5.0–5.19, 6.0–6.19 and 7.0–{Newest}";

    private static IEnumerable<KernelVersion> Series(int major, int first, int last)
    {
        for (var minor = first; minor <= last; minor++) yield return V(major, minor);
    }

    /// <summary>Every switch with its value for this profile and its documentation.</summary>
    public IEnumerable<(string Name, object Value, KernelSwitchAttribute Doc)> Switches()
    {
        foreach (var p in typeof(KernelProfile).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var doc = p.GetCustomAttribute<KernelSwitchAttribute>();
            if (doc != null) yield return (p.Name, p.GetValue(this)!, doc);
        }
    }
}
