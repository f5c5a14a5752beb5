//! Every body shape expands without a warning: this file is compiled under `deny(warnings)`.
#![deny(warnings)]

use instrument::{metric, trace_method};

#[trace_method]
fn one_liner(t: &str) -> u32 { t.len() as u32 }

#[metric(histogram = "one_liner_ms")]
fn metric_one_liner(t: &str) -> u32 { t.len() as u32 }

#[trace_method]
#[metric(counter = "both_total")]
fn both(t: &str) -> usize { t.len() }

#[trace_method]
fn unit_body() {}

#[trace_method]
fn unsafe_tail(values: &[u8]) -> u8 {
    unsafe { *values.as_ptr() }
}

#[trace_method]
fn loop_tail(limit: u32) -> u32 {
    let mut n = 0;
    loop {
        n += 1;
        if n >= limit {
            break n;
        }
    }
}

#[trace_method]
fn match_tail(n: u8) -> &'static str {
    match n {
        0 => "zero",
        _ => "more",
    }
}

#[trace_method]
fn if_tail(flag: bool) -> u8 {
    if flag { 1 } else { 0 }
}

#[trace_method]
fn impl_trait_return(n: u32) -> impl Iterator<Item = u32> {
    (0..n).map(|i| i * 2)
}

#[trace_method]
fn impl_trait_arg(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[trace_method]
fn macro_tail(name: &str) -> String {
    format!("hello {name}")
}

#[metric(histogram = "vec_ms")]
fn macro_vec_tail(n: u8) -> Vec<u8> {
    vec![n; 2]
}

#[trace_method]
fn early_return(n: i32) -> Result<i32, String> {
    if n < 0 {
        return Err("negative".to_owned());
    }
    let parsed: i32 = "7".parse().map_err(|_| "parse".to_owned())?;
    Ok(n + parsed)
}

#[trace_method]
fn pattern_param((a, b): (u8, u8)) -> u8 { a + b }

#[trace_method]
fn returns_async_block(n: u32) -> impl std::future::Future<Output = u32> {
    async move { n + 1 }
}

#[trace_method]
async fn async_one_liner(n: u32) -> u32 { n * 2 }

#[metric(histogram = "async_ms", err)]
async fn async_result(n: u32) -> Result<u32, std::num::ParseIntError> {
    let m: u32 = "3".parse()?;
    Ok(n + m)
}

#[trace_method]
async fn async_match_tail(n: u8) -> u8 {
    match n {
        0 => 1,
        n => n,
    }
}

#[trace_method]
async fn async_unsafe_tail(values: Vec<u8>) -> u8 {
    unsafe { *values.as_ptr() }
}

#[trace_method]
async fn async_inner_async_move(n: u32) -> u32 {
    async move { n + 1 }.await
}

struct Service;

#[trace_method]
impl Service {
    fn method_one_liner(&self, n: u32) -> u32 { n + 1 }

    async fn method_async(&self, n: u32) -> u32 { n + 2 }

    fn method_macro_tail(&self) -> Vec<u32> { vec![1, 2] }
}

fn main() {
    assert_eq!(one_liner("ab"), 2);
    assert_eq!(metric_one_liner("abc"), 3);
    assert_eq!(both("a"), 1);
    unit_body();
    assert_eq!(unsafe_tail(&[4]), 4);
    assert_eq!(loop_tail(3), 3);
    assert_eq!(match_tail(0), "zero");
    assert_eq!(if_tail(true), 1);
    assert_eq!(impl_trait_return(3).count(), 3);
    assert_eq!(impl_trait_arg([1, 2]), 3);
    assert_eq!(macro_tail("x"), "hello x");
    assert_eq!(macro_vec_tail(1), vec![1, 1]);
    assert_eq!(early_return(1), Ok(8));
    assert_eq!(pattern_param((1, 2)), 3);
    let service = Service;
    assert_eq!(service.method_one_liner(1), 2);
    assert_eq!(service.method_macro_tail().len(), 2);
    let futures = (
        returns_async_block(1),
        async_one_liner(1),
        async_result(1),
        async_match_tail(1),
        async_unsafe_tail(vec![1]),
        async_inner_async_move(1),
        service.method_async(1),
    );
    drop(futures);
}
