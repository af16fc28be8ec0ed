//! closs from Rust: the prototypes of closs.h written as an extern "C" block.
//! closs_status and closs_reduction are C enums: `int`-sized, so i32 here.
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

const CLOSS_OK: c_int = 0;
const CLOSS_REDUCTION_NONE: c_int = 0;
const CLOSS_REDUCTION_MEAN: c_int = 1;
const CLOSS_ERR_INDEX_OUT_OF_RANGE: c_int = 5;

extern "C" {
    fn closs_version_string() -> *const c_char;
    fn closs_status_string(status: c_int) -> *const c_char;
    fn closs_mse_loss_fused_f32(
        n: i64, input: *const f32, target: *const f32, weight: *const f32,
        reduction: c_int, out: *mut f32, grad_input: *mut f32,
    ) -> c_int;
    fn closs_cross_entropy_f64(
        n: i64, c: i64, s: i64, input: *const f64, target: *const i64, weight: *const f64,
        ignore_index: i64, label_smoothing: f64, reduction: c_int, out: *mut f64,
    ) -> c_int;
}

fn status_string(st: c_int) -> String {
    unsafe { CStr::from_ptr(closs_status_string(st)) }.to_string_lossy().into_owned()
}

/// Safe wrapper: the value and gradient of the mean squared error.
fn mse_fused(input: &[f32], target: &[f32]) -> Result<(f32, Vec<f32>), String> {
    assert_eq!(input.len(), target.len());
    let mut out = 0.0f32;
    let mut grad = vec![0.0f32; input.len()];
    let st = unsafe {
        closs_mse_loss_fused_f32(input.len() as i64, input.as_ptr(), target.as_ptr(),
                                 std::ptr::null(), CLOSS_REDUCTION_MEAN, &mut out,
                                 grad.as_mut_ptr())
    };
    if st == CLOSS_OK { Ok((out, grad)) } else { Err(status_string(st)) }
}

/// Safe wrapper: cross_entropy of (n, c) logits and class indices, per row.
fn cross_entropy_rows(logits: &[f64], c: usize, labels: &[i64]) -> Result<Vec<f64>, c_int> {
    assert_eq!(logits.len(), labels.len() * c);
    let mut out = vec![0.0f64; labels.len()];
    let st = unsafe {
        closs_cross_entropy_f64(labels.len() as i64, c as i64, 1, logits.as_ptr(),
                                labels.as_ptr(), std::ptr::null(), -100, 0.0,
                                CLOSS_REDUCTION_NONE, out.as_mut_ptr())
    };
    if st == CLOSS_OK { Ok(out) } else { Err(st) }
}

fn near(a: f64, b: f64) -> bool { (a - b).abs() <= 1e-6 * (1.0 + b.abs()) }

fn main() {
    let version = unsafe { CStr::from_ptr(closs_version_string()) }.to_string_lossy();
    let (mse, grad) = mse_fused(&[1.0, 2.0, 3.0, 4.0], &[0.0, 2.0, 5.0, 4.0]).unwrap();
    let mut ok = near(mse as f64, 1.25)
        && grad.iter().zip([0.5, 0.0, -1.0, 0.0]).all(|(g, e)| near(*g as f64, e));
    let logits = [0.0, 0.0, 0.0, 1.0, 2.0, 3.0];
    let rows = cross_entropy_rows(&logits, 3, &[0, 2]).unwrap();
    ok = ok && near(rows[0], 3f64.ln())
        && near(rows[1], (1.0 + (-1f64).exp() + (-2f64).exp()).ln());
    match cross_entropy_rows(&logits, 3, &[0, 7]) {
        Err(st) if st == CLOSS_ERR_INDEX_OUT_OF_RANGE => println!("expected error: {}", status_string(st)),
        other => { println!("an index out of range gave {other:?}"); ok = false; }
    }
    println!("closs {version} from Rust: mse {mse:.4}, cross_entropy rows {:.6} {:.6}: {}",
             rows[0], rows[1], if ok { "ok" } else { "WRONG" });
    std::process::exit(if ok { 0 } else { 1 });
}
