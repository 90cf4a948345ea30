//! The `mspform` binary: all logic lives in the library; this only exits.

/// mimalloc, not the system allocator: a long apply of a large portfolio
/// keeps a heap of 100+ MB (the plan, its steps, sled's cache) and makes one
/// vendor call every ~143 ms with its caches gone cold in between; glibc's
/// allocator spread each call's small allocations over that heap, and the
/// apply's CPU per call at 1,000 customers was 1.38-1.46 ms against ~1.1 ms
/// at 100. With mimalloc (per-thread, size-class pages) it is 1.18-1.24 ms
/// at 1,000 and the same ~1.1 ms at 100 (`cargo bench --bench scale`). The
/// price is a higher peak RSS (96 MB instead of 34 MB at 100 customers).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(mspform::cli::main());
}
