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
