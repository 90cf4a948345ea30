//! The `mspform` binary: all logic lives in the library; this only exits.

fn main() {
    std::process::exit(mspform::cli::main());
}
