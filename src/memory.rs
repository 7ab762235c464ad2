//! The C allocator's settings for long runs (glibc on Linux; elsewhere
//! these do nothing).
//!
//! Every stage allocates and frees image-sized arrays, and a whole-slide
//! scan keeps a few hundred bytes per nucleus between them. With glibc's
//! defaults each thread gets its own arena, which keeps its own freed
//! high-water memory, and the small long-lived blocks pin holes between
//! the big freed ones: resident memory drifts upward over a scan of
//! hundreds of tiles although live memory does not. Measured in
//! docs/performance.md, section 7 (where returning the free pages with
//! malloc_trim after each tile was tried too: 55 % slower, no lower).

/// One malloc arena for the whole process: freed memory of one thread is
/// reused by the others. Call first in `main`, before any thread starts.
pub fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's settings.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Serves every allocation of at least `bytes` with its own mapping,
/// returned to the system when freed, and stops glibc from raising that
/// threshold by itself (its default moves it up to the largest block
/// freed, up to 32 MiB, so image-sized arrays come from the heap and the
/// small long-lived blocks allocated between them pin it). Used by
/// whole-slide scans with the size of one tile's f32 plane rounded up to
/// a power of two: the plane-sized arrays, allocated and freed many
/// times per tile, stay in the heap (a fresh mapping costs a page fault
/// per 4 KiB), larger ones are unmapped when freed. Process-wide and for
/// good: in a batch, cases after a scan keep the threshold (the same
/// results; fields larger than a tile are slower).
pub fn map_blocks_from(bytes: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's settings.
    unsafe {
        libc::mallopt(
            libc::M_MMAP_THRESHOLD,
            bytes.min(i32::MAX as usize) as libc::c_int,
        );
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = bytes;
}
