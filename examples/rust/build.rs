// Links libcloss as pkg-config describes it (PKG_CONFIG_PATH may point at a
// custom prefix's lib/pkgconfig, or at a meson build's meson-uninstalled/), and
// sets the run path so the program finds libcloss.so without LD_LIBRARY_PATH.
use std::process::Command;

fn pkg_config(args: &[&str]) -> String {
    let out = Command::new("pkg-config")
        .args(args)
        .arg("closs")
        .output()
        .expect("pkg-config is needed to find closs");
    if !out.status.success() {
        panic!(
            "pkg-config {:?} closs failed (is PKG_CONFIG_PATH set?): {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    for flag in pkg_config(&["--libs"]).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={lib}");
        }
    }
}
