//! Builds the detection component (`transform` for wasm32-wasip2, release) so the
//! harness can embed it and `crowsnest replay` works with no other file.
//!
//! The inner cargo gets its own target directory under `OUT_DIR`: the outer cargo holds
//! the lock on the workspace target directory for the whole build, and an inner build
//! sharing it would wait for that lock forever. Every variable through which the outer
//! build's settings would leak into the inner one (target dir, target triple, flags,
//! jobserver, wrappers such as clippy-driver) is removed, so the component is the same
//! whether the harness is built by `cargo build`, `cargo test --release` or `cargo clippy`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// Inputs of the component build, relative to this crate.
const WATCHED: &[&str] = &[
    "../transform/src",
    "../transform/rules",
    "../transform/Cargo.toml",
    "../transform/build.rs",
    "../wit",
    "../Cargo.lock",
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host-harness sits in the workspace root")
        .to_path_buf();

    for path in WATCHED {
        watch(&manifest_dir.join(path));
    }
    println!("cargo:rerun-if-changed=build.rs");

    if !target_installed() {
        fail(&format!(
            "the {TARGET} target is not installed for this toolchain; run `rustup target add {TARGET}` \
             (rust-toolchain.toml lists it, so rustup installs it with the toolchain)"
        ));
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("component-target");
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&workspace)
        .args([
            "build",
            "-p",
            "crowsnest-transform",
            "--release",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    scrub_env(&mut cmd);

    let status = cmd.status().unwrap_or_else(|e| {
        fail(&format!(
            "could not run {}: {e}",
            Path::new(&cargo).display()
        ))
    });
    if !status.success() {
        fail(&format!(
            "building the transform component for {TARGET} failed ({status}); see the errors above"
        ));
    }

    let built = target_dir
        .join(TARGET)
        .join("release")
        .join("crowsnest_transform.wasm");
    let bytes =
        fs::read(&built).unwrap_or_else(|e| fail(&format!("reading {}: {e}", built.display())));
    let embedded = out_dir.join("crowsnest.wasm");
    // Rewrite only on change: `include_bytes!` recompiles the harness when the file's
    // mtime moves, and an unchanged component should not cost a rebuild.
    if fs::read(&embedded).ok().as_deref() != Some(bytes.as_slice()) {
        fs::write(&embedded, &bytes)
            .unwrap_or_else(|e| fail(&format!("writing {}: {e}", embedded.display())));
    }
    // Tests that run the same component in another host (tests/jco.rs) find it here.
    println!(
        "cargo:rustc-env=CROWSNEST_COMPONENT_WASM={}",
        embedded.display()
    );
}

/// Ask cargo to rerun on changes below `path`. A path that does not exist yet (no
/// `rules/` so far) would make cargo rerun this script on every build, so its nearest
/// existing parent is watched instead: creating it changes that directory.
fn watch(path: &Path) {
    let mut path = path;
    while !path.exists() {
        match path.parent() {
            Some(parent) => path = parent,
            None => return,
        }
    }
    println!("cargo:rerun-if-changed={}", path.display());
}

/// Remove what the outer build sets for itself: the inner cargo must pick its own
/// target, profile, flags and jobs.
fn scrub_env(cmd: &mut Command) {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "MAKEFLAGS",
        "MFLAGS",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
        "CLIPPY_ARGS",
    ];
    // Cargo's configuration variables and the per-package variables it sets for this
    // script. CARGO_HOME and the registry/network settings are the user's and stay.
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_setting = (key.starts_with("CARGO_") && !KEEP.iter().any(|k| key.starts_with(k)))
            || key.starts_with("__CARGO");
        if cargo_setting || EXACT.contains(&key) {
            cmd.env_remove(key);
        }
    }
}

/// Whether the toolchain the outer build uses has the wasm target's standard library.
/// When the sysroot cannot be asked for, the build goes ahead and cargo says what is missing.
fn target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return true;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .exists()
}

/// Fail the build with one clear line; the exit status makes cargo also show what the
/// inner build printed.
fn fail(message: &str) -> ! {
    println!("cargo::error=crowsnest: {message}");
    std::process::exit(1);
}
