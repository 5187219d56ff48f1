//! Process-wide memory settings for heavy homomorphic workloads.
//!
//! A bootstrap at `N = 2^16` allocates and frees thousands of polynomials of 1-16 MB. With
//! glibc's defaults, buffers that large are mapped fresh from the kernel (or the heap is trimmed
//! back to it) and every reuse page-faults and zero-fills its pages again: measured, 18 % of a
//! 128-bit bootstrap went to the kernel's page clearing (`docs/performance.md`).
//! [`retain_freed_memory`] keeps freed buffers in the process instead. It changes a
//! process-global allocator setting, so the library never calls it by itself: applications (the
//! examples and benchmarks of this workspace, the `hetal` tool) opt in at startup.

/// Tunes glibc's allocator to keep freed memory for reuse: buffers up to 32 MB come from the
/// heap instead of fresh mappings (`M_MMAP_THRESHOLD`), the heap is only returned to the
/// kernel above 2 GB of free space at its top (`M_TRIM_THRESHOLD`), and every thread allocates
/// from that one main heap (`M_ARENA_MAX` = 1). The last matters for rayon's workers: a
/// thread's own arena is a chain of 64 MB mappings that glibc unmaps as soon as one is empty,
/// whatever the trim threshold, so polynomials allocated on a worker were page-faulted and
/// zero-filled by the kernel at every reuse (measured: 8 hoisted rotations 378 -> 317 ms, 21 %
/// of their profile in `clear_page_erms`). Polynomial buffers are few and large, so one arena's
/// lock costs nothing measurable on 2 threads (`docs/performance.md`). Peak memory is unchanged
/// (the same buffers are live at the peak); between peaks the process keeps up to 2 GB it
/// could have returned. Returns `false` where it does nothing (other platforms or C
/// libraries, or if glibc refused a setting).
///
/// ```
/// // At the start of `main`, before the heavy work (and before spawning threads).
/// let tuned = hetal_ckks::memory::retain_freed_memory();
/// # let _ = tuned;
/// ```
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes allocator parameters; it is thread-safe in glibc
        // (it takes the arena locks) and both values are in range.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
                && libc::mallopt(libc::M_ARENA_MAX, 1) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
