//! Signature corpus of the `instrument` macros.
//!
//! [`corpus!`] defines, in the module it is invoked in, every fn signature and body shape the
//! macros must accept (receivers, parameter patterns, `&mut` parameters, generics, lifetimes,
//! `impl Trait`, async fns, trait methods, `#[async_trait]`, recursion, instrumented `impl`
//! blocks, parameter names that clash with the expansion's own...), each shape carrying the
//! attributes it is given, and a `run_all()` that calls every shape and returns what the caller
//! can observe of each call: the returned value and the caller's state after it.
//!
//! [`plain`] is the corpus without attributes, the reference; the tests instantiate it under
//! each option of `#[trace_method]` and `#[metric]` and check that every shape compiles and
//! returns exactly what the plain one does, and that every instrumented call was recorded once
//! ([`traced_calls`]).

#![deny(warnings)]

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The crates the corpus expansion names, so that an instantiating crate needs only this one
/// and `instrument`.
#[doc(hidden)]
pub mod __deps {
    pub use async_trait;
    pub use tokio;
}

/// The rows `run_all` returns, and the number of instrumented calls the shapes declared.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Recorder {
    rows: Vec<(&'static str, String)>,
    calls: usize,
}

impl Recorder {
    /// Records what `shape`'s calls returned and left behind, and that they made `calls` calls
    /// of instrumented fns (recursion and nested instrumented calls included).
    pub fn rec(&mut self, shape: &'static str, calls: usize, observed: impl Debug) {
        self.rows.push((shape, format!("{observed:?}")));
        self.calls += calls;
    }

    /// The rows and the instrumented calls they made.
    pub fn finish(self) -> (Vec<(&'static str, String)>, usize) {
        (self.rows, self.calls)
    }
}

/// Runs `f`, turning a panic into `Err` with its message.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".to_owned())
    })
}

/// How many calls of instrumented fns `run_all` makes (each instrumented call records one span
/// and one metric measurement).
pub fn traced_calls() -> usize {
    plain::run_counted().1
}

/// Defines the whole corpus in the invoking module: `all` goes on every shape, `x` on the shapes
/// with a parameter named `x` instead, `result` on the shapes returning a `Result` instead.
/// `impl` blocks instrumented as a whole get `all` (none of their methods has a parameter `x`).
#[macro_export]
macro_rules! corpus {
    (
        all: [ $(#[$all:meta])* ],
        x: [ $(#[$x:meta])* ],
        result: [ $(#[$r:meta])* ] $(,)?
    ) => {
        use ::std::cell::{Cell, RefCell};
        use ::std::collections::BTreeMap;
        use ::std::error::Error;
        use ::std::fmt::Debug;
        use ::std::future::Future;
        use ::std::num::ParseIntError;
        use ::std::pin::Pin;
        use ::std::rc::Rc;
        use ::std::str::FromStr;
        use ::std::sync::Arc;
        use ::std::sync::atomic::{AtomicU32, Ordering};

        // ---------------------------------------------------------------------------------
        // Types.
        // ---------------------------------------------------------------------------------

        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        struct Point {
            x: i32,
            y: i32,
        }

        #[derive(Debug, Clone, Copy, PartialEq)]
        struct Meters(u32);

        /// Notes its name in the log when dropped.
        #[derive(Debug)]
        struct Noted(Rc<RefCell<Vec<&'static str>>>, &'static str);

        impl Drop for Noted {
            fn drop(&mut self) {
                self.0.borrow_mut().push(self.1);
            }
        }

        #[derive(Debug, Clone, PartialEq, Default)]
        struct Acc {
            total: u32,
            log: Vec<String>,
        }

        #[derive(Debug, Default)]
        struct Shared {
            hits: Cell<u32>,
        }

        #[derive(Debug, Default)]
        struct Atomic {
            hits: AtomicU32,
        }

        #[derive(Debug, Clone, PartialEq)]
        struct Account {
            balance: u32,
        }

        #[derive(Debug, Clone, PartialEq)]
        struct Wrapper<T> {
            inner: T,
            reads: u32,
        }

        #[derive(Debug)]
        struct Limits {
            floor: u32,
        }

        #[derive(Debug, Default)]
        struct Stack<T> {
            items: Vec<T>,
            pushes: u32,
        }

        #[derive(Debug, Default, Clone, PartialEq)]
        struct Request {
            url: String,
            retries: u32,
            headers: Vec<(String, String)>,
        }

        #[derive(Debug, Default)]
        struct RequestBuilder {
            request: Request,
        }

        #[derive(Debug, Default)]
        struct Clicks {
            n: u32,
        }

        #[derive(Debug, Clone, PartialEq)]
        struct Tag {
            label: String,
        }

        #[derive(Debug, Clone, PartialEq)]
        struct Label(String);

        #[derive(Debug)]
        struct Table {
            rows: Vec<u32>,
        }

        #[derive(Debug, Default)]
        struct MemStore {
            map: BTreeMap<String, u32>,
        }

        #[derive(Debug, Default)]
        struct Cache {
            hits: u32,
        }

        /// `#[async_trait]` trait, its impl instrumented as a whole.
        #[$crate::__deps::async_trait::async_trait]
        trait Lookup {
            async fn look(&mut self, key: &str) -> usize;
        }

        /// Native async trait, its impl instrumented as a whole.
        trait Ping {
            async fn ping(&self, n: u32) -> u32;
        }

        type CorpusResult<T> = Result<T, String>;

        // ---------------------------------------------------------------------------------
        // Traits.
        // ---------------------------------------------------------------------------------

        /// Taken as `&mut dyn Tally`.
        trait Tally {
            fn incr(&mut self, by: u32);
            fn count(&self) -> u32;
        }

        /// Sync default methods carrying the attribute inside the trait definition.
        trait Describe {
            fn name(&self) -> String;
            fn set_name(&mut self, name: &str);

            // shape: trait default method (`&self`)
            $(#[$all])*
            fn describe(&self) -> String {
                format!("<{}>", self.name())
            }

            // shape: trait default method with a parameter `x`
            $(#[$x])*
            fn repeat_name(&self, x: usize) -> String {
                self.name().repeat(x)
            }

            // shape: trait default method with `where Self: Sized`, by value
            $(#[$all])*
            fn twin(self) -> (Self, Self)
            where
                Self: Sized + Clone,
            {
                (self.clone(), self)
            }

            // shape: trait default method returning a Result
            $(#[$r])*
            fn checked_name(&self) -> Result<String, String> {
                let name = self.name();
                if name.is_empty() {
                    return Err("empty name".to_owned());
                }
                Ok(name)
            }
        }

        /// Native `async fn` in a trait.
        trait Fetch {
            async fn fetch(&self, key: u32) -> u32;
            async fn remember(&mut self, value: u32) -> usize;

            // shape: native async default method
            $(#[$all])*
            async fn fetch_pair(&self, key: u32) -> (u32, u32) {
                (self.fetch(key).await, self.fetch(key + 1).await)
            }

            // shape: native async default method with a parameter `x`
            $(#[$x])*
            async fn fetch_scaled(&self, x: u32) -> u32 {
                self.fetch(x).await * 2
            }
        }

        /// `#[async_trait]` trait, with an instrumented default method.
        #[$crate::__deps::async_trait::async_trait]
        trait Store {
            async fn get(&self, key: &str) -> Option<u32>;
            async fn put(&mut self, key: &str, value: u32) -> Option<u32>;
            async fn try_get(&self, key: &str) -> Result<u32, String>;
            async fn append(&mut self, x: String, value: u32) -> usize;

            // shape: #[async_trait] default method
            $(#[$all])*
            async fn get_or(&self, key: &str, fallback: u32) -> u32 {
                self.get(key).await.unwrap_or(fallback)
            }
        }

        // ---------------------------------------------------------------------------------
        // Receivers, sync and async (attribute on each method).
        // ---------------------------------------------------------------------------------

        impl Acc {
            // shape: associated fn returning `Self`
            $(#[$all])*
            fn new(total: u32) -> Self {
                Acc {
                    total,
                    log: Vec::new(),
                }
            }

            // shape: `self` receiver
            $(#[$all])*
            fn into_total(self) -> u32 {
                self.total + self.log.len() as u32
            }

            // shape: `mut self` receiver returning `Self` (builder step)
            $(#[$all])*
            fn with_entry(mut self, entry: &str) -> Self {
                self.log.push(entry.to_owned());
                self.total += 1;
                self
            }

            // shape: `&self` receiver
            $(#[$all])*
            fn total(&self) -> u32 {
                self.total
            }

            // shape: `&mut self` receiver mutating
            $(#[$all])*
            fn deposit(&mut self, n: u32) -> u32 {
                self.total += n;
                self.log.push(format!("deposit {n}"));
                self.total
            }

            // shape: `&mut self` returning `&mut` tied to self
            $(#[$all])*
            fn last_entry_mut(&mut self) -> &mut String {
                if self.log.is_empty() {
                    self.log.push(String::new());
                }
                let last = self.log.len() - 1;
                &mut self.log[last]
            }

            // shape: `&self` returning a shared reference tied to self
            $(#[$all])*
            fn entries(&self) -> &[String] {
                &self.log
            }

            // shape: `self: Box<Self>`
            #[allow(clippy::boxed_local)]
            $(#[$all])*
            fn boxed_total(self: Box<Self>) -> u32 {
                self.total * 2
            }

            // shape: `self: Pin<&mut Self>` mutating
            $(#[$all])*
            fn pinned_add(self: Pin<&mut Self>, n: u32) -> u32 {
                let this = self.get_mut();
                this.total += n;
                this.total
            }

            // shape: inherent method with `where Self: Sized`
            $(#[$all])*
            fn doubled(self) -> Self
            where
                Self: Sized,
            {
                Acc {
                    total: self.total * 2,
                    ..self
                }
            }

            // shape: const generic method
            $(#[$all])*
            fn repeated<const N: usize>(&self) -> [u32; N] {
                [self.total; N]
            }

            // shape: parameters named like the expansion's variables, mutated through `&mut`
            $(#[$all])*
            fn record_names(&mut self, meta: &mut u32, span: &mut Vec<String>, outcome: String) -> usize {
                *meta += 1;
                span.push(outcome);
                self.total += *meta;
                span.len()
            }

            // shape: async `self`
            $(#[$all])*
            async fn a_into_total(self) -> u32 {
                self.total + self.log.len() as u32
            }

            // shape: async `mut self` returning `Self`
            $(#[$all])*
            async fn a_with_entry(mut self, entry: String) -> Self {
                self.log.push(entry);
                self.total += 1;
                self
            }

            // shape: async `&self`
            $(#[$all])*
            async fn a_total(&self) -> u32 {
                self.total
            }

            // shape: async `&mut self` mutating
            $(#[$all])*
            async fn a_deposit(&mut self, n: u32) -> u32 {
                self.total += n;
                self.log.push(format!("a_deposit {n}"));
                self.total
            }

            // shape: async `&mut self` returning `&mut` tied to self
            $(#[$all])*
            async fn a_last_entry_mut(&mut self) -> &mut String {
                if self.log.is_empty() {
                    self.log.push(String::new());
                }
                let last = self.log.len() - 1;
                &mut self.log[last]
            }

            // shape: async `&self` returning a reference tied to self
            $(#[$all])*
            async fn a_entries(&self) -> &[String] {
                &self.log
            }

            // shape: async `self: Box<Self>`
            $(#[$all])*
            async fn a_boxed_total(self: Box<Self>) -> u32 {
                self.total * 2
            }

            // shape: async `self: Pin<&mut Self>` mutating
            $(#[$all])*
            async fn a_pinned_add(self: Pin<&mut Self>, n: u32) -> u32 {
                let this = self.get_mut();
                this.total += n;
                this.total
            }
        }

        impl Shared {
            // shape: `self: Rc<Self>` mutating shared state
            $(#[$all])*
            fn rc_hit(self: Rc<Self>) -> u32 {
                self.hits.set(self.hits.get() + 1);
                self.hits.get()
            }

            // shape: async `self: Rc<Self>`
            $(#[$all])*
            async fn a_rc_hit(self: Rc<Self>) -> u32 {
                self.hits.set(self.hits.get() + 10);
                self.hits.get()
            }
        }

        impl Atomic {
            // shape: `self: Arc<Self>` mutating shared state
            $(#[$all])*
            fn arc_hit(self: Arc<Self>) -> u32 {
                self.hits.fetch_add(1, Ordering::SeqCst) + 1
            }

            // shape: async `self: Arc<Self>`
            $(#[$all])*
            async fn a_arc_hit(self: Arc<Self>) -> u32 {
                self.hits.fetch_add(10, Ordering::SeqCst) + 10
            }
        }

        impl Account {
            // shape: `&mut self` returning Result
            $(#[$r])*
            fn withdraw(&mut self, amount: u32) -> Result<u32, String> {
                if amount > self.balance {
                    return Err(format!("balance {} < {amount}", self.balance));
                }
                self.balance -= amount;
                Ok(self.balance)
            }

            // shape: async `&mut self` returning Result with `?`
            $(#[$r])*
            async fn a_withdraw(&mut self, amount: &str) -> Result<u32, Box<dyn Error>> {
                let amount: u32 = amount.parse()?;
                if amount > self.balance {
                    return Err(format!("balance {} < {amount}", self.balance).into());
                }
                self.balance -= amount;
                Ok(self.balance)
            }
        }

        // ---------------------------------------------------------------------------------
        // Methods of a generic type (attribute on each method), associated consts.
        // ---------------------------------------------------------------------------------

        impl<T: Clone> Wrapper<T> {
            // shape: generic impl, associated fn returning `Self`
            $(#[$all])*
            fn wrap(inner: T) -> Self {
                Wrapper { inner, reads: 0 }
            }

            // shape: generic impl, `&mut self`
            $(#[$all])*
            fn get(&mut self) -> T {
                self.reads += 1;
                self.inner.clone()
            }

            // shape: generic impl, method with its own generics and a closure parameter
            $(#[$all])*
            fn map_inner<U, F: FnOnce(T) -> U>(self, f: F) -> Wrapper<U> {
                Wrapper {
                    inner: f(self.inner),
                    reads: self.reads,
                }
            }

            // shape: generic impl, returning a reference to a generic field
            $(#[$all])*
            fn inner_ref(&self) -> &T {
                &self.inner
            }

            // shape: generic impl, async `&mut self`
            $(#[$all])*
            async fn a_get(&mut self) -> T {
                self.reads += 10;
                self.inner.clone()
            }
        }

        impl Limits {
            const MAX: u32 = 100;
            const NAME: &'static str = "limits";

            // shape: body using `Self::` associated consts
            $(#[$all])*
            fn clamp(&self, n: u32) -> u32 {
                n.clamp(self.floor, Self::MAX)
            }

            // shape: body using `Self::` associated consts in a macro
            $(#[$all])*
            fn label(&self) -> String {
                format!("{}:{}..{}", Self::NAME, self.floor, Self::MAX)
            }
        }

        // ---------------------------------------------------------------------------------
        // Instrumented `impl` blocks (attribute on the block).
        // ---------------------------------------------------------------------------------

        // shape: instrumented impl of a generic type, a `const fn` left alone, `Self::` consts
        $(#[$all])*
        impl<T: Clone + Debug> Stack<T> {
            const LIMIT: usize = 8;

            const fn capacity_hint() -> usize {
                4
            }

            fn new() -> Self {
                Stack {
                    items: Vec::with_capacity(Self::capacity_hint()),
                    pushes: 0,
                }
            }

            fn push(&mut self, item: T) -> (usize, u32) {
                if self.items.len() < Self::LIMIT {
                    self.items.push(item);
                }
                self.pushes += 1;
                (self.items.len(), self.pushes)
            }

            fn peek(&self) -> Option<&T> {
                self.items.last()
            }

            fn pop(&mut self) -> Option<T> {
                self.items.pop()
            }

            fn top_mut(&mut self) -> Option<&mut T> {
                self.items.last_mut()
            }

            async fn a_push_all(&mut self, items: Vec<T>) -> (usize, u32) {
                for item in items {
                    self.items.push(item);
                    self.pushes += 1;
                }
                (self.items.len(), self.pushes)
            }

            fn into_vec(self) -> Vec<T> {
                self.items
            }
        }

        // shape: instrumented impl, builder chain of `mut self -> Self`
        $(#[$all])*
        impl RequestBuilder {
            fn new(url: &str) -> Self {
                RequestBuilder {
                    request: Request {
                        url: url.to_owned(),
                        ..Request::default()
                    },
                }
            }

            fn retries(mut self, n: u32) -> Self {
                self.request.retries = n;
                self
            }

            fn header(mut self, key: &str, value: &str) -> Self {
                self.request.headers.push((key.to_owned(), value.to_owned()));
                self
            }

            fn build(self) -> Request {
                self.request
            }
        }

        // shape: instrumented impl of a trait (attribute on the impl)
        $(#[$all])*
        impl Tally for Clicks {
            fn incr(&mut self, by: u32) {
                self.n += by;
            }

            fn count(&self) -> u32 {
                self.n
            }
        }

        // shape: instrumented impl of an `#[async_trait]` trait, the attribute before
        // `#[async_trait]`
        $(#[$all])*
        #[$crate::__deps::async_trait::async_trait]
        impl Lookup for Cache {
            async fn look(&mut self, key: &str) -> usize {
                self.hits += 1;
                key.len() + self.hits as usize
            }
        }

        // shape: instrumented impl of a native async trait
        $(#[$all])*
        impl Ping for Cache {
            async fn ping(&self, n: u32) -> u32 {
                n + self.hits
            }
        }

        // shape: instrumented impl of a trait with default methods
        $(#[$all])*
        impl Describe for Tag {
            fn name(&self) -> String {
                self.label.clone()
            }

            fn set_name(&mut self, name: &str) {
                self.label = name.to_owned();
            }
        }

        // Attribute on each method of a trait impl, one overriding a default method.
        impl Describe for Label {
            // shape: trait impl method (`&self`)
            $(#[$all])*
            fn name(&self) -> String {
                self.0.clone()
            }

            // shape: trait impl method (`&mut self`), unit fn with one-expression body
            $(#[$all])*
            fn set_name(&mut self, name: &str) {
                self.0 = name.to_owned()
            }

            // shape: trait impl method overriding a default one
            $(#[$all])*
            fn describe(&self) -> String {
                format!("label {}", self.0)
            }
        }

        impl Fetch for Table {
            // shape: native async fn in a trait impl
            $(#[$all])*
            async fn fetch(&self, key: u32) -> u32 {
                self.rows.get(key as usize).copied().unwrap_or(0)
            }

            // shape: native async fn in a trait impl, `&mut self`
            $(#[$all])*
            async fn remember(&mut self, value: u32) -> usize {
                self.rows.push(value);
                self.rows.len()
            }
        }

        #[$crate::__deps::async_trait::async_trait]
        impl Store for MemStore {
            // shape: #[async_trait] method `&self`
            $(#[$all])*
            async fn get(&self, key: &str) -> Option<u32> {
                self.map.get(key).copied()
            }

            // shape: #[async_trait] method `&mut self`
            $(#[$all])*
            async fn put(&mut self, key: &str, value: u32) -> Option<u32> {
                self.map.insert(key.to_owned(), value)
            }

            // shape: #[async_trait] method returning Result, early return
            $(#[$r])*
            async fn try_get(&self, key: &str) -> Result<u32, String> {
                if key.is_empty() {
                    return Err("empty key".to_owned());
                }
                self.get(key).await.ok_or_else(|| format!("missing {key}"))
            }

            // shape: #[async_trait] method with a `mut x` parameter
            $(#[$x])*
            async fn append(&mut self, mut x: String, value: u32) -> usize {
                x.push('!');
                self.map.insert(x, value);
                self.map.len()
            }
        }

        // ---------------------------------------------------------------------------------
        // Parameter patterns.
        // ---------------------------------------------------------------------------------

        // shape: `mut x` parameter
        $(#[$x])*
        fn mut_param(mut x: u32) -> u32 {
            x += 1;
            x *= 2;
            x
        }

        // shape: tuple pattern with a `mut` binding
        $(#[$all])*
        fn tuple_pattern((a, mut b): (u32, u32)) -> u32 {
            b += a;
            b * 10
        }

        // shape: struct pattern `Point { x, .. }`
        $(#[$x])*
        fn struct_pattern(Point { x, .. }: Point) -> i32 {
            x * 10
        }

        // shape: array pattern `[a, b]`
        $(#[$all])*
        fn array_pattern([a, b]: [u32; 2]) -> u32 {
            a * 10 + b
        }

        // shape: reference pattern `&(a, b)`
        $(#[$all])*
        fn ref_pattern(&(a, b): &(u32, u32)) -> u32 {
            a - b
        }

        // shape: `_` parameter
        $(#[$all])*
        fn wildcard_param(_: u32, n: u32) -> u32 {
            n + 1
        }

        // shape: unused `_name` parameter
        $(#[$all])*
        fn underscore_named(_unused: &str, n: u32) -> u32 {
            n * 3
        }

        // shape: `ref` binding on a parameter
        #[allow(clippy::toplevel_ref_arg)]
        $(#[$all])*
        fn ref_binding(ref name: String) -> usize {
            name.len()
        }

        // shape: `@` binding with a subpattern
        $(#[$all])*
        fn at_binding(whole @ (first, _): (u32, u32)) -> (u32, (u32, u32)) {
            (first, whole)
        }

        // shape: `mut` binding of a reference, reassigned in the body
        $(#[$all])*
        fn mut_ref_binding(mut rest: &[u32]) -> u32 {
            let mut sum = 0;
            while let [first, tail @ ..] = rest {
                sum += first;
                rest = tail;
            }
            sum
        }

        // shape: tuple-struct pattern
        $(#[$all])*
        fn newtype_pattern(Meters(m): Meters) -> u32 {
            m * 100
        }

        // ---------------------------------------------------------------------------------
        // `&mut` parameters, mutated (the caller checks the mutation).
        // ---------------------------------------------------------------------------------

        // shape: `&mut T`, unit fn with a one-expression body
        $(#[$x])*
        fn bump(x: &mut u32) {
            *x += 1
        }

        // shape: `&mut [T]`
        $(#[$x])*
        fn fill(x: &mut [u32]) {
            for (i, v) in x.iter_mut().enumerate() {
                *v = i as u32 * 2;
            }
        }

        // shape: `&mut dyn Trait`
        $(#[$x])*
        fn poke(x: &mut dyn Tally) -> u32 {
            x.incr(3);
            x.count()
        }

        // shape: `Option<&mut T>`
        $(#[$x])*
        fn maybe_bump(x: Option<&mut u32>) -> bool {
            match x {
                Some(v) => {
                    *v += 5;
                    true
                }
                None => false,
            }
        }

        // shape: returning `&mut` tied to a `&mut Vec` parameter
        $(#[$all])*
        fn first_mut(v: &mut Vec<u32>) -> &mut u32 {
            if v.is_empty() {
                v.push(0);
            }
            &mut v[0]
        }

        // shape: `Option<&mut T>` in and out
        $(#[$all])*
        fn opt_mut(slot: Option<&mut u32>) -> Option<&mut u32> {
            slot.map(|v| {
                *v += 1;
                v
            })
        }

        // shape: `&mut &'a str` reassigned (named lifetime)
        $(#[$all])*
        fn swap_refs<'a>(target: &mut &'a str, source: &'a str) {
            *target = source;
        }

        // shape: returning two `&mut` slices of a `&mut [T]`
        $(#[$all])*
        fn split_mut(v: &mut [u32]) -> (&mut [u32], &mut [u32]) {
            let mid = v.len() / 2;
            v.split_at_mut(mid)
        }

        // shape: returning an iterator of `&mut` borrowing the parameter
        $(#[$all])*
        fn double_all(v: &mut [u32]) -> impl Iterator<Item = &mut u32> {
            v.iter_mut().map(|e| {
                *e *= 2;
                e
            })
        }

        // shape: returning a closure that mutates through a captured `&mut` parameter
        $(#[$all])*
        fn counter_from(n: &mut u32) -> impl FnMut() -> u32 + '_ {
            move || {
                *n += 1;
                *n
            }
        }

        // ---------------------------------------------------------------------------------
        // Generics, lifetimes, `impl Trait`.
        // ---------------------------------------------------------------------------------

        // shape: generic parameter `T: Debug`
        $(#[$x])*
        fn show_generic<T: Debug>(x: T) -> String {
            format!("<{x:?}>")
        }

        // shape: `where` clause, returning `Option<&T>` tied to the input, `?` on Option
        $(#[$all])*
        fn largest<T>(items: &[T]) -> Option<&T>
        where
            T: PartialOrd,
        {
            let mut best = items.first()?;
            for item in items {
                if item > best {
                    best = item;
                }
            }
            Some(best)
        }

        // shape: elided lifetime returning `&str`
        $(#[$all])*
        fn first_word(s: &str) -> &str {
            s.split(' ').next().unwrap_or("")
        }

        // shape: named lifetime shared by two inputs
        $(#[$all])*
        fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
            if b.len() > a.len() { b } else { a }
        }

        // shape: bounded lifetimes `'b: 'a`
        $(#[$all])*
        fn pick<'a, 'b: 'a>(a: &'a str, b: &'b str, take_b: bool) -> &'a str {
            if take_b { b } else { a }
        }

        // shape: `'static` in and out
        $(#[$x])*
        fn static_str(x: &'static str) -> &'static str {
            x.trim()
        }

        // shape: const generic
        $(#[$x])*
        fn sum_const<const N: usize>(x: [u32; N]) -> u32 {
            x.iter().sum::<u32>() + N as u32
        }

        // shape: HRTB `for<'a> Fn(&'a str)` in a where clause
        $(#[$all])*
        fn hrtb<F>(f: F) -> usize
        where
            F: for<'a> Fn(&'a str) -> usize,
        {
            f("hello") + f("hi")
        }

        // shape: HRTB in a `&dyn` parameter returning a borrow of its argument
        $(#[$all])*
        fn hrtb_dyn(f: &dyn for<'a> Fn(&'a str) -> &'a str, s: &str) -> String {
            f(s).to_owned()
        }

        // shape: `impl Trait` argument
        $(#[$all])*
        fn impl_arg(items: impl IntoIterator<Item = u32>) -> u32 {
            items.into_iter().sum()
        }

        // shape: `impl Trait` return
        $(#[$all])*
        fn impl_ret(n: u32) -> impl Iterator<Item = u32> {
            (0..n).filter(|i| i % 2 == 0)
        }

        // shape: returned iterator borrowing a parameter
        $(#[$all])*
        fn iter_borrowing(v: &[u32], min: u32) -> impl Iterator<Item = &u32> + '_ {
            v.iter().filter(move |n| **n >= min)
        }

        // shape: returned closure borrowing a parameter
        $(#[$all])*
        fn closure_borrowing(base: &u32) -> impl Fn(u32) -> u32 + '_ {
            move |n| n + *base
        }

        // shape: returned boxed closure
        $(#[$all])*
        fn boxed_closure(k: u32) -> Box<dyn Fn(u32) -> u32> {
            Box::new(move |n| n * k)
        }

        // shape: `impl Trait` nested in `Option`
        $(#[$all])*
        fn maybe_iter(v: &[u32]) -> Option<impl Iterator<Item = u32> + '_> {
            if v.is_empty() {
                return None;
            }
            Some(v.iter().map(|n| n + 1))
        }

        // shape: tuple of `impl Trait`
        $(#[$all])*
        fn pair_of_closures(k: u32) -> (impl Fn(u32) -> u32, impl Fn(u32) -> u32) {
            (move |n| n + k, move |n| n * k)
        }

        // shape: reference to `impl Trait`
        $(#[$all])*
        fn as_debug(p: &Point) -> &impl Debug {
            p
        }

        // shape: `-> impl Future` (sync fn returning an async block)
        $(#[$x])*
        fn later(x: u32) -> impl Future<Output = u32> {
            async move { x * 3 }
        }

        // shape: `-> impl Future` borrowing a parameter
        $(#[$all])*
        fn later_ref(s: &str) -> impl Future<Output = usize> + '_ {
            async move { s.len() }
        }

        // shape: several generics in a `where` clause
        $(#[$all])*
        fn where_clause<K, V>(pairs: &[(K, V)]) -> Vec<String>
        where
            K: Debug,
            V: Debug + Clone,
        {
            pairs.iter().map(|(k, v)| format!("{k:?}={:?}", v.clone())).collect()
        }

        // shape: generic with several bounds, `T::default()`
        $(#[$all])*
        fn is_default<T: Default + PartialEq>(v: T) -> bool {
            v == T::default()
        }

        // ---------------------------------------------------------------------------------
        // Body shapes.
        // ---------------------------------------------------------------------------------

        // shape: unit fn with an empty body
        $(#[$all])*
        fn noop() {}

        // shape: unit fn with a one-expression body (no semicolon)
        $(#[$all])*
        fn push_one(v: &mut Vec<u32>) {
            v.push(1)
        }

        // shape: early `return`
        $(#[$all])*
        fn early_return(n: i32) -> i32 {
            if n < 0 {
                return 0;
            }
            n * 2
        }

        // shape: `?` on Option
        $(#[$all])*
        fn option_try(v: &[u32]) -> Option<u32> {
            let first = v.first()?;
            let last = v.last()?;
            Some(first + last)
        }

        // shape: labeled block as the tail
        $(#[$all])*
        fn labeled_block(n: u32) -> &'static str {
            'kind: {
                if n == 0 {
                    break 'kind "zero";
                }
                if n < 10 {
                    break 'kind "small";
                }
                "large"
            }
        }

        // shape: loop with a break value as the tail
        $(#[$all])*
        fn loop_break(limit: u32) -> u32 {
            let mut n = 1;
            loop {
                n *= 2;
                if n > limit {
                    break n;
                }
            }
        }

        // shape: labeled nested loops, `continue 'label`, `return` from inside
        $(#[$all])*
        fn nested_loops(grid: &[[u32; 3]], target: u32) -> Option<(usize, usize)> {
            'rows: for (i, row) in grid.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    if *v == target {
                        return Some((i, j));
                    }
                    if *v > target {
                        continue 'rows;
                    }
                }
            }
            None
        }

        // shape: `match` tail
        $(#[$x])*
        fn match_tail(x: Option<u32>) -> &'static str {
            match x {
                Some(0) => "zero",
                Some(n) if n % 2 == 0 => "even",
                Some(_) => "odd",
                None => "none",
            }
        }

        // shape: `if let ... else` tail
        $(#[$x])*
        fn if_let_tail(x: Option<&str>) -> String {
            if let Some(s) = x {
                s.to_uppercase()
            } else {
                "nothing".to_owned()
            }
        }

        // shape: `let else`
        $(#[$all])*
        fn let_else(s: &str) -> u32 {
            let Some((a, b)) = s.split_once('+') else {
                return 0;
            };
            let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) else {
                return 1;
            };
            a + b
        }

        // shape: parameter shadowed in the body
        $(#[$x])*
        fn shadow(x: u32) -> String {
            let x = x * 2;
            let x = x.to_string();
            x + "!"
        }

        // shape: `move` closure capturing parameters
        $(#[$x])*
        fn move_closure(x: Vec<u32>, k: u32) -> u32 {
            let f = move |i: usize| x[i] * k;
            f(0) + f(1)
        }

        // shape: `unsafe fn`
        $(#[$x])*
        unsafe fn read_at(x: *const u32, i: usize) -> u32 {
            // SAFETY: the caller passes a pointer to at least `i + 1` values.
            unsafe { *x.add(i) }
        }

        // shape: `extern "C" fn`
        $(#[$x])*
        extern "C" fn c_mul(x: u32, y: u32) -> u32 {
            x * y
        }

        // shape: `#[must_use]` and `#[inline]` around the attribute
        #[must_use]
        $(#[$all])*
        #[inline]
        fn must_use_sum(a: u32, b: u32) -> u32 {
            a + b
        }

        // shape: `#[inline(never)]`
        #[inline(never)]
        $(#[$all])*
        fn inline_never(n: u32) -> u32 {
            n + 1000
        }

        // shape: `#[cfg]` before the attribute, one alternative compiled out, one active
        #[cfg(panic = "abort")]
        $(#[$all])*
        fn cfg_shape() -> &'static str {
            "abort"
        }

        #[cfg(not(panic = "abort"))]
        $(#[$all])*
        fn cfg_shape() -> &'static str {
            "unwind"
        }

        // shape: `#[cfg]` after the attribute, one alternative compiled out, one active
        $(#[$all])*
        #[cfg(target_pointer_width = "16")]
        fn cfg_after() -> u32 {
            16
        }

        $(#[$all])*
        #[cfg(not(target_pointer_width = "16"))]
        fn cfg_after() -> u32 {
            usize::BITS.min(64)
        }

        /// shape: doc comments and `#[doc]` attributes.
        ///
        /// A second paragraph.
        $(#[$all])*
        #[doc = "More documentation after the attribute."]
        fn documented(n: u32) -> u32 {
            n * 2
        }

        // shape: nested fn item and nested `impl` inside the body
        $(#[$all])*
        fn nested_items(n: u32) -> u32 {
            fn helper(v: u32) -> u32 {
                v * 3
            }
            struct Local(u32);
            impl Local {
                fn twice(&self) -> u32 {
                    self.0 * 2
                }
            }
            helper(Local(n).twice())
        }

        // shape: `static` and `const` declared in the body
        $(#[$all])*
        fn body_statics(n: u32) -> (u32, bool) {
            const BASE: u32 = 10;
            static CALLS: AtomicU32 = AtomicU32::new(0);
            CALLS.fetch_add(1, Ordering::Relaxed);
            (BASE + n, CALLS.load(Ordering::Relaxed) > 0)
        }

        // shape: `-> !`
        $(#[$x])*
        fn diverge(x: &str) -> ! {
            panic!("diverged: {x}")
        }

        // shape: conditional panic
        $(#[$x])*
        fn checked_half(x: i32) -> i32 {
            if x % 2 != 0 {
                panic!("odd: {x}");
            }
            x / 2
        }

        // shape: sync recursion
        $(#[$all])*
        fn factorial(n: u64) -> u64 {
            if n <= 1 { 1 } else { n * factorial(n - 1) }
        }

        // shape: mutual recursion
        $(#[$all])*
        fn is_even(n: u32) -> bool {
            if n == 0 { true } else { is_odd(n - 1) }
        }

        // shape: mutual recursion (other half)
        $(#[$all])*
        fn is_odd(n: u32) -> bool {
            if n == 0 { false } else { is_even(n - 1) }
        }

        // ---------------------------------------------------------------------------------
        // Tuples, arrays, slices, Strings, Vecs; many parameters; closures; iterators.
        // ---------------------------------------------------------------------------------

        // shape: tuple in and out
        $(#[$x])*
        fn tuple_swap(x: (u32, String)) -> (String, u32) {
            (x.1, x.0)
        }

        // shape: array in and out, `mut` array parameter
        $(#[$all])*
        fn array_rev(mut a: [u8; 4]) -> [u8; 4] {
            a.reverse();
            a
        }

        // shape: slice in, tuple out
        $(#[$all])*
        fn slice_stats(s: &[i64]) -> (i64, usize) {
            (s.iter().sum(), s.len())
        }

        // shape: String in and out
        $(#[$all])*
        fn shout(s: String) -> String {
            s.to_uppercase() + "!"
        }

        // shape: `mut` Vec in and out
        $(#[$all])*
        fn sorted(mut v: Vec<i32>) -> Vec<i32> {
            v.sort();
            v
        }

        // shape: Vec of borrows of a `&str` parameter
        $(#[$all])*
        fn words(s: &str) -> Vec<&str> {
            s.split_whitespace().collect()
        }

        // shape: 8 parameters
        #[allow(clippy::too_many_arguments)]
        $(#[$x])*
        fn eight(a: u8, b: u16, c: u32, d: u64, e: i8, f: &str, g: String, x: bool) -> String {
            format!("{a}-{b}-{c}-{d}-{e}-{f}-{g}-{x}")
        }

        // shape: `impl FnMut` parameter called repeatedly
        $(#[$x])*
        fn call_repeatedly(mut x: impl FnMut() -> u32, times: usize) -> u32 {
            let mut total = 0;
            for _ in 0..times {
                total += x();
            }
            total
        }

        // shape: `&mut impl Iterator`
        $(#[$x])*
        fn take_two(x: &mut impl Iterator<Item = u32>) -> Vec<u32> {
            x.take(2).collect()
        }

        // ---------------------------------------------------------------------------------
        // Parameter and local names that clash with the expansion's own.
        // ---------------------------------------------------------------------------------

        // shape: parameters named `meta`, `span`, `start`, `body`, `ret`, `probe`, `outcome`, `timer`
        #[allow(clippy::too_many_arguments)]
        $(#[$all])*
        fn ordinary_names(
            meta: u32,
            span: u32,
            start: u32,
            body: u32,
            ret: u32,
            probe: u32,
            outcome: u32,
            timer: u32,
        ) -> u32 {
            meta + span * 2 + start * 3 + body * 4 + ret * 5 + probe * 6 + outcome * 7 + timer * 8
        }

        // shape: parameters named like the expansion's internal locals
        $(#[$all])*
        fn internal_names(
            __instrument_start: u32,
            __instrument_body: u32,
            __instrument_ret: u32,
            __instrument_span: u32,
            __instrument_timer: u32,
            __instrument_fake_return: u32,
        ) -> u32 {
            __instrument_start
                + __instrument_body * 10
                + __instrument_ret * 100
                + __instrument_span * 1000
                + __instrument_timer * 10000
                + __instrument_fake_return * 100000
        }

        // shape: parameters named `instrument`, `core`, `std`
        $(#[$all])*
        fn crate_names(instrument: u32, core: u32, std: u32) -> u32 {
            instrument * 100 + core * 10 + std
        }

        // shape: body locals named like the expansion's internal locals
        $(#[$all])*
        fn body_locals(n: u32) -> u32 {
            let __instrument_ret = n + 1;
            let __instrument_body = |v: u32| v * 2;
            let __instrument_span = __instrument_body(__instrument_ret);
            let __instrument_start = __instrument_span + 1;
            __instrument_start * 10
        }

        // shape: Result-returning fn with parameters named `ret` and `outcome`
        $(#[$r])*
        fn names_result(ret: &str, outcome: &str) -> Result<String, String> {
            if ret.is_empty() {
                return Err(outcome.to_owned());
            }
            Ok(format!("{ret}/{outcome}"))
        }

        // ---------------------------------------------------------------------------------
        // Result returns (the `result` group).
        // ---------------------------------------------------------------------------------

        // shape: `?` on Result
        $(#[$r])*
        fn parse_num(s: &str) -> Result<u32, ParseIntError> {
            let n: u32 = s.trim().parse()?;
            Ok(n + 1)
        }

        // shape: early `return Err`
        $(#[$r])*
        fn early_err(n: i32) -> Result<i32, String> {
            if n < 0 {
                return Err(format!("negative {n}"));
            }
            Ok(n * 3)
        }

        // shape: `Result<_, Box<dyn Error>>` with `?` and `.into()`
        $(#[$r])*
        fn boxed_err(s: &str) -> Result<u32, Box<dyn Error>> {
            let n: u32 = s.parse()?;
            if n == 0 {
                return Err("zero".into());
            }
            Ok(100 / n)
        }

        // shape: Result through a type alias
        $(#[$r])*
        fn alias_result(s: &str) -> CorpusResult<usize> {
            if s.contains(' ') {
                Err(format!("space in {s:?}"))
            } else {
                Ok(s.len())
            }
        }

        // shape: Result of a reference tied to the input
        $(#[$r])*
        fn result_ref(v: &[u32], i: usize) -> Result<&u32, String> {
            v.get(i).ok_or_else(|| format!("no index {i}"))
        }

        // shape: Result of a `&mut` tied to the input
        $(#[$r])*
        fn result_mut(v: &mut [u32], i: usize) -> Result<&mut u32, String> {
            let len = v.len();
            v.get_mut(i).ok_or_else(|| format!("no index {i} of {len}"))
        }

        // shape: `Result<(), E>`
        $(#[$r])*
        fn result_unit(flag: bool) -> Result<(), String> {
            if flag { Ok(()) } else { Err("flag off".to_owned()) }
        }

        // shape: generic Result with an associated error type
        $(#[$r])*
        fn result_generic<T: FromStr>(s: &str) -> Result<T, T::Err> {
            s.parse()
        }

        // shape: `let else` in a Result fn
        $(#[$r])*
        fn result_let_else(s: Option<&str>) -> Result<usize, String> {
            let Some(s) = s else {
                return Err("none".to_owned());
            };
            if s.is_empty() {
                return Err("empty".to_owned());
            }
            Ok(s.len())
        }

        // shape: labeled block in a Result fn
        $(#[$r])*
        fn result_labeled(items: &[i32]) -> Result<i32, String> {
            let sum = 'sum: {
                let mut sum = 0;
                for item in items {
                    if *item < 0 {
                        break 'sum Err(format!("negative item {item}"));
                    }
                    sum += item;
                }
                Ok(sum)
            }?;
            Ok(sum * 2)
        }

        // shape: `std::io::Result`
        $(#[$r])*
        fn result_io(s: &str) -> ::std::io::Result<String> {
            if s.is_empty() {
                return Err(::std::io::Error::new(::std::io::ErrorKind::InvalidInput, "empty"));
            }
            Ok(s.repeat(2))
        }

        // shape: conditional panic in a Result fn
        $(#[$r])*
        fn result_panics(n: i32) -> Result<i32, String> {
            if n > 100 {
                panic!("too big: {n}");
            }
            if n < 0 {
                return Err(format!("negative {n}"));
            }
            Ok(n + 1)
        }

        // shape: `fmt::Result` writing through `&mut dyn fmt::Write`
        $(#[$r])*
        fn result_fmt(out: &mut dyn ::std::fmt::Write, n: u32) -> ::std::fmt::Result {
            write!(out, "n={n};")
        }

        // shape: `Result<Option<_>, _>`
        $(#[$r])*
        fn result_option(v: &[&str]) -> Result<Option<u32>, ParseIntError> {
            v.first().map(|s| s.parse()).transpose()
        }

        // shape: `impl FnMut` returning Result, `?` in a loop
        $(#[$r])*
        fn result_closure_mut(mut f: impl FnMut(u32) -> Result<u32, String>, n: u32) -> Result<u32, String> {
            let mut total = 0;
            for i in 0..n {
                total += f(i)?;
            }
            Ok(total)
        }

        // ---------------------------------------------------------------------------------
        // Async free fns.
        // ---------------------------------------------------------------------------------

        // shape: async unit fn with an empty body
        $(#[$all])*
        async fn a_noop() {}

        // shape: async `mut x` parameter
        $(#[$x])*
        async fn a_mut_param(mut x: u32) -> u32 {
            x += 10;
            x
        }

        // shape: async `&mut Vec` parameter mutated
        $(#[$x])*
        async fn a_push(x: &mut Vec<u32>, n: u32) -> usize {
            x.push(n);
            x.len()
        }

        // shape: async `&mut [T]` parameter mutated, unit
        $(#[$all])*
        async fn a_mut_slice(v: &mut [u32]) {
            for e in v.iter_mut() {
                *e += 1;
            }
        }

        // shape: async `&mut dyn Trait`
        $(#[$all])*
        async fn a_dyn_mut(t: &mut dyn Tally) -> u32 {
            t.incr(7);
            t.count()
        }

        // shape: async `Option<&mut T>`
        $(#[$all])*
        async fn a_opt_mut(slot: Option<&mut u32>) -> bool {
            match slot {
                Some(v) => {
                    *v *= 3;
                    true
                }
                None => false,
            }
        }

        // shape: async returning `&mut` tied to the input
        $(#[$all])*
        async fn a_first_mut(v: &mut Vec<u32>) -> &mut u32 {
            if v.is_empty() {
                v.push(0);
            }
            &mut v[0]
        }

        // shape: async named lifetime returning a reference
        $(#[$all])*
        async fn a_longest<'a>(a: &'a str, b: &'a str) -> &'a str {
            if b.len() > a.len() { b } else { a }
        }

        // shape: async elided lifetime returning a reference
        $(#[$all])*
        async fn a_first_word(s: &str) -> &str {
            s.split(' ').next().unwrap_or("")
        }

        // shape: async generic fn
        $(#[$x])*
        async fn a_show<T: Debug>(x: T) -> String {
            format!("[{x:?}]")
        }

        // shape: async generic fn with a `where` clause returning `Option<&T>`
        $(#[$all])*
        async fn a_nth<T>(items: &[T], i: usize) -> Option<&T>
        where
            T: Debug,
        {
            items.get(i)
        }

        // shape: async `impl Trait` argument
        $(#[$x])*
        async fn a_total(x: impl IntoIterator<Item = u32>) -> u32 {
            x.into_iter().sum()
        }

        // shape: async const generic
        $(#[$all])*
        async fn a_const_generic<const N: usize>(arr: [u8; N]) -> usize {
            arr.len() + N
        }

        // shape: async tuple pattern with a `mut` binding
        $(#[$all])*
        async fn a_tuple_pattern((a, mut b): (u32, u32)) -> u32 {
            b *= a;
            b
        }

        // shape: async struct pattern
        $(#[$all])*
        async fn a_struct_pattern(Point { y, .. }: Point) -> i32 {
            y - 1
        }

        // shape: async reference pattern
        $(#[$all])*
        async fn a_ref_pattern(&(a, b): &(u32, u32)) -> u32 {
            a * b
        }

        // shape: async early return
        $(#[$all])*
        async fn a_early(n: i32) -> i32 {
            if n < 0 {
                return -1;
            }
            n + 100
        }

        // shape: async `?` on Option
        $(#[$all])*
        async fn a_option_try(v: &[u32]) -> Option<u32> {
            let first = v.first()?;
            Some(first * 7)
        }

        // shape: async `let else`
        $(#[$all])*
        async fn a_let_else(s: &str) -> u32 {
            let Ok(n) = s.parse::<u32>() else {
                return 0;
            };
            n * 2
        }

        // shape: async labeled block and loop with a break value
        $(#[$all])*
        async fn a_labeled(n: u32) -> u32 {
            let mut step = 0;
            let doubled = loop {
                step += 1;
                if step == 2 {
                    break n * step;
                }
            };
            'check: {
                if doubled > 10 {
                    break 'check doubled;
                }
                0
            }
        }

        // shape: async `move` closure capturing parameters, shadowing
        $(#[$all])*
        async fn a_move_closure(v: Vec<u32>, k: u32) -> u32 {
            let k = k + 1;
            let f = move |i: usize| v[i] + k;
            f(0) * f(1)
        }

        // shape: async awaiting other instrumented fns
        $(#[$all])*
        async fn a_awaits_inner(n: u32) -> u32 {
            a_mut_param(n).await + later(n).await
        }

        // shape: async recursion through `Box::pin`
        $(#[$all])*
        async fn a_fib(n: u32) -> u64 {
            if n < 2 {
                return n as u64;
            }
            Box::pin(a_fib(n - 1)).await + Box::pin(a_fib(n - 2)).await
        }

        // shape: async conditional panic
        $(#[$x])*
        async fn a_checked(x: i32) -> i32 {
            if x < 0 {
                panic!("negative: {x}");
            }
            x * 2
        }

        // shape: async parameters named like the expansion's variables, `&mut` mutated
        $(#[$all])*
        async fn a_internal_names(
            __instrument_body: &mut Vec<u32>,
            __instrument_ret: u32,
            __instrument_span: u32,
            body: u32,
            ret: u32,
        ) -> usize {
            __instrument_body.push(__instrument_ret + __instrument_span * 10 + body * 100 + ret * 1000);
            __instrument_body.len()
        }

        // shape: async `?` and early return on Result
        $(#[$r])*
        async fn a_parse(s: &str) -> Result<u32, ParseIntError> {
            if s.is_empty() {
                return Ok(0);
            }
            let n: u32 = s.trim().parse()?;
            Ok(n * 2)
        }

        // shape: async Result with a `&mut` parameter mutated
        $(#[$r])*
        async fn a_result_mut(v: &mut Vec<u32>, n: u32) -> Result<usize, String> {
            if n == 0 {
                return Err("zero".to_owned());
            }
            v.push(n);
            Ok(v.len())
        }

        // shape: async Result of a reference tied to the input
        $(#[$r])*
        async fn a_result_ref(v: &[u32], i: usize) -> Result<&u32, String> {
            v.get(i).ok_or_else(|| format!("no index {i}"))
        }

        // shape: async parameter the body never names (a guard): dropped when the future ends
        $(#[$all])*
        async fn a_holds_guard(_guard: Noted, log: Rc<RefCell<Vec<&'static str>>>) -> u32 {
            log.borrow_mut().push("body");
            later(1).await
        }

        // shape: async, two parameters the body never names: dropped last first, as an
        // `async fn` drops them
        $(#[$all])*
        async fn a_two_guards(_first: Noted, _second: Noted, log: Rc<RefCell<Vec<&'static str>>>) {
            log.borrow_mut().push("body");
        }

        // shape: async, two parameters, the body naming the first only: dropped last first
        $(#[$all])*
        async fn a_names_first(first: Noted, _second: Noted) -> &'static str {
            first.1
        }

        // shape: async `_` parameter: dropped when the future ends
        $(#[$all])*
        async fn a_wild_param(_: Noted, log: Rc<RefCell<Vec<&'static str>>>) -> usize {
            log.borrow_mut().push("body");
            log.borrow().len()
        }

        // shape: async fn returning `impl Trait`
        $(#[$all])*
        async fn a_impl_debug(n: u32) -> impl Debug {
            (n, later(n).await)
        }

        // shape: async unsafe fn reading through a raw pointer
        $(#[$all])*
        async unsafe fn a_unsafe_read(p: *const u32) -> u32 {
            // SAFETY: the caller passes a pointer to a live `u32`.
            unsafe { *p }
        }

        // shape: async fn under another attribute macro after this one, which needs an
        // `async fn` (`#[tokio::main]` on a fn that is not `main`)
        $(#[$all])*
        #[$crate::__deps::tokio::main(flavor = "current_thread")]
        async fn a_under_tokio_main(n: u32) -> u32 {
            later(n).await + 1
        }

        // shape: async `Result<_, Box<dyn Error + Send + Sync>>`
        $(#[$r])*
        async fn a_boxed_err(s: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
            let n: u32 = s.parse()?;
            Ok(n + 1)
        }

        // ---------------------------------------------------------------------------------
        // Calls.
        // ---------------------------------------------------------------------------------

        /// Calls every shape; returns what each call returned and left behind, and the number
        /// of calls of instrumented fns made.
        pub fn run_counted() -> (Vec<(&'static str, String)>, usize) {
            let mut r = $crate::Recorder::default();
            run_sync(&mut r);
            run_async(&mut r);
            r.finish()
        }

        /// Calls every shape; returns, for each, what the calls returned and left behind.
        pub fn run_all() -> Vec<(&'static str, String)> {
            run_counted().0
        }

        fn run_sync(r: &mut $crate::Recorder) {
            // Receivers.
            r.rec("Acc::new", 1, Acc::new(3));
            {
                let a = Acc {
                    total: 4,
                    log: vec!["x".to_owned()],
                };
                r.rec("Acc::into_total", 1, a.into_total());
            }
            r.rec("Acc::with_entry", 2, Acc::default().with_entry("a").with_entry("b"));
            {
                let a = Acc {
                    total: 7,
                    log: Vec::new(),
                };
                let t = a.total();
                r.rec("Acc::total", 1, (t, a));
            }
            {
                let mut a = Acc::default();
                let first = a.deposit(5);
                let second = a.deposit(6);
                r.rec("Acc::deposit", 2, (first, second, a));
            }
            {
                let mut a = Acc::default();
                a.last_entry_mut().push_str("edited");
                a.last_entry_mut().push('!');
                r.rec("Acc::last_entry_mut", 2, a);
            }
            {
                let a = Acc {
                    total: 1,
                    log: vec!["p".to_owned(), "q".to_owned()],
                };
                r.rec("Acc::entries", 1, (a.entries(), &a));
            }
            r.rec(
                "Acc::boxed_total",
                1,
                Box::new(Acc {
                    total: 21,
                    log: Vec::new(),
                })
                .boxed_total(),
            );
            {
                let mut a = Acc::default();
                let v = Pin::new(&mut a).pinned_add(4);
                let w = Pin::new(&mut a).pinned_add(5);
                r.rec("Acc::pinned_add", 2, (v, w, a));
            }
            {
                let s = Rc::new(Shared::default());
                let a = Rc::clone(&s).rc_hit();
                let b = Rc::clone(&s).rc_hit();
                r.rec("Shared::rc_hit", 2, (a, b, s.hits.get(), Rc::strong_count(&s)));
            }
            {
                let s = Arc::new(Atomic::default());
                let a = Arc::clone(&s).arc_hit();
                let b = Arc::clone(&s).arc_hit();
                r.rec(
                    "Atomic::arc_hit",
                    2,
                    (a, b, s.hits.load(Ordering::SeqCst), Arc::strong_count(&s)),
                );
            }
            r.rec("Acc::doubled", 2, Acc::new(6).doubled());
            {
                let a = Acc::new(9);
                let three: [u32; 3] = a.repeated();
                r.rec("Acc::repeated", 3, (three, a.repeated::<1>()));
            }
            {
                let mut a = Acc::new(1);
                let mut meta = 4;
                let mut span = vec!["s".to_owned()];
                let len = a.record_names(&mut meta, &mut span, "done".to_owned());
                r.rec("Acc::record_names", 2, (len, meta, span, a));
            }
            {
                let mut acc = Account { balance: 10 };
                let a = acc.withdraw(3);
                let b = acc.withdraw(30);
                r.rec("Account::withdraw", 2, (a, b, acc));
            }

            // Generic type, associated consts.
            {
                let mut w = Wrapper::wrap(vec![1]);
                let a = w.get();
                let b = w.get();
                let mapped = w.clone().map_inner(|v| v.len());
                let inner = w.inner_ref().clone();
                r.rec("Wrapper", 5, (a, b, mapped, inner, w));
            }
            {
                let l = Limits { floor: 5 };
                r.rec("Limits", 4, (l.clamp(1), l.clamp(50), l.clamp(500), l.label()));
            }

            // Instrumented impl blocks.
            {
                let mut s: Stack<String> = Stack::new();
                let n1 = s.push("a".to_owned());
                let n2 = s.push("b".to_owned());
                if let Some(top) = s.top_mut() {
                    top.push('!');
                }
                let peek = s.peek().cloned();
                let popped = s.pop();
                let hint = Stack::<String>::capacity_hint();
                let limit = Stack::<String>::LIMIT;
                let summary = format!("{s:?}");
                let rest = s.into_vec();
                r.rec("Stack", 7, (n1, n2, peek, popped, hint, limit, summary, rest));
            }
            {
                let request = RequestBuilder::new("http://corpus")
                    .retries(3)
                    .header("accept", "text/plain")
                    .build();
                let parts = (request.url.len(), request.retries, request.headers.len());
                r.rec("RequestBuilder", 4, (parts, request));
            }
            {
                let mut t = Tag {
                    label: "tag".to_owned(),
                };
                let described = t.describe();
                let repeated = t.repeat_name(2);
                let checked = t.checked_name();
                t.set_name("");
                let checked_empty = t.checked_name();
                let (a, b) = t.clone().twin();
                r.rec(
                    "Describe for Tag",
                    10,
                    (described, repeated, checked, checked_empty, a, b, t),
                );
            }
            {
                let mut l = Label("l".to_owned());
                l.set_name("renamed");
                let described = l.describe();
                let checked = l.checked_name();
                r.rec("Describe for Label", 4, (described, checked, l));
            }

            // Parameter patterns.
            r.rec("mut_param", 2, (mut_param(1), mut_param(10)));
            r.rec("tuple_pattern", 1, tuple_pattern((2, 3)));
            r.rec("struct_pattern", 1, struct_pattern(Point { x: 4, y: 9 }));
            r.rec("array_pattern", 1, array_pattern([3, 4]));
            {
                let pair = (9, 4);
                r.rec("ref_pattern", 1, (ref_pattern(&pair), pair));
            }
            r.rec("wildcard_param", 1, wildcard_param(99, 1));
            r.rec("underscore_named", 1, underscore_named("unused", 5));
            r.rec("ref_binding", 1, ref_binding("hello".to_owned()));
            r.rec("at_binding", 1, at_binding((7, 8)));
            {
                let v = [1, 2, 3, 4];
                r.rec("mut_ref_binding", 1, (mut_ref_binding(&v), v));
            }
            r.rec("newtype_pattern", 1, newtype_pattern(Meters(3)));

            // `&mut` parameters.
            {
                let mut v = 1;
                bump(&mut v);
                bump(&mut v);
                r.rec("bump", 2, v);
            }
            {
                let mut v = [9u32; 4];
                fill(&mut v);
                r.rec("fill", 1, v);
            }
            {
                let mut c = Clicks::default();
                let n = poke(&mut c);
                r.rec("poke", 3, (n, c));
            }
            {
                let mut v = 1;
                let a = maybe_bump(Some(&mut v));
                let b = maybe_bump(None);
                r.rec("maybe_bump", 2, (a, b, v));
            }
            {
                let mut v = Vec::new();
                *first_mut(&mut v) += 7;
                let mut w = vec![3, 4];
                *first_mut(&mut w) *= 10;
                r.rec("first_mut", 2, (v, w));
            }
            {
                let mut v = 5;
                let got = opt_mut(Some(&mut v)).map(|m| {
                    *m *= 3;
                    *m
                });
                let none = opt_mut(None).is_none();
                r.rec("opt_mut", 2, (got, none, v));
            }
            {
                let mut target = "old";
                swap_refs(&mut target, "new");
                r.rec("swap_refs", 1, target);
            }
            {
                let mut v = [1, 2, 3, 4, 5];
                let (a, b) = split_mut(&mut v);
                a[0] = 10;
                b[0] = 30;
                r.rec("split_mut", 1, v);
            }
            {
                let mut v = [1, 2, 3];
                let sum: u32 = double_all(&mut v)
                    .map(|e| {
                        *e += 1;
                        *e
                    })
                    .sum();
                r.rec("double_all", 1, (sum, v));
            }
            {
                let mut n = 10;
                let (a, b) = {
                    let mut next = counter_from(&mut n);
                    (next(), next())
                };
                r.rec("counter_from", 1, (a, b, n));
            }

            // Generics, lifetimes, `impl Trait`.
            r.rec(
                "show_generic",
                3,
                (show_generic(5), show_generic("s"), show_generic(vec![Some(1)])),
            );
            r.rec(
                "largest",
                3,
                (largest(&[3, 9, 2]), largest::<u8>(&[]), largest(&["b", "a"])),
            );
            r.rec("first_word", 1, first_word("hello world"));
            {
                let a = String::from("abc");
                let b = String::from("de");
                r.rec("longest", 2, (longest(&a, &b), longest(&b, "xyzw")));
            }
            r.rec("pick", 2, (pick("a", "b", false), pick("a", "b", true)));
            r.rec("static_str", 1, static_str("  padded "));
            r.rec(
                "sum_const",
                3,
                (sum_const([1, 2, 3]), sum_const([5; 5]), sum_const::<0>([])),
            );
            r.rec("hrtb", 1, hrtb(|s: &str| s.len()));
            r.rec("hrtb_dyn", 1, hrtb_dyn(&|s: &str| s.trim(), "  t  "));
            r.rec(
                "impl_arg",
                3,
                (impl_arg(vec![1, 2, 3]), impl_arg([4u32; 2]), impl_arg(1..4)),
            );
            r.rec("impl_ret", 1, impl_ret(7).collect::<Vec<_>>());
            {
                let v = vec![1, 5, 3, 8];
                let got: Vec<&u32> = iter_borrowing(&v, 4).collect();
                r.rec("iter_borrowing", 1, got);
            }
            {
                let base = 10;
                let f = closure_borrowing(&base);
                r.rec("closure_borrowing", 1, (f(1), f(2)));
            }
            {
                let f = boxed_closure(3);
                r.rec("boxed_closure", 1, (f(2), f(5)));
            }
            {
                let v = [1, 2];
                let some = maybe_iter(&v).map(|it| it.collect::<Vec<_>>());
                let none = maybe_iter(&[]).is_none();
                r.rec("maybe_iter", 2, (some, none));
            }
            {
                let (add, mul) = pair_of_closures(4);
                r.rec("pair_of_closures", 1, (add(1), mul(3)));
            }
            {
                let p = Point { x: 1, y: 2 };
                r.rec("as_debug", 1, format!("{:?}", as_debug(&p)));
            }
            r.rec(
                "where_clause",
                1,
                where_clause(&[("a", 1), ("b", 2)]),
            );
            r.rec(
                "is_default",
                2,
                (is_default(0u8), is_default(String::from("x"))),
            );

            // Body shapes.
            noop();
            r.rec("noop", 1, "called");
            {
                let mut v = Vec::new();
                push_one(&mut v);
                push_one(&mut v);
                r.rec("push_one", 2, v);
            }
            r.rec("early_return", 2, (early_return(-5), early_return(4)));
            r.rec("option_try", 2, (option_try(&[1, 2, 3]), option_try(&[])));
            r.rec(
                "labeled_block",
                3,
                (labeled_block(0), labeled_block(3), labeled_block(30)),
            );
            r.rec("loop_break", 1, loop_break(20));
            r.rec(
                "nested_loops",
                2,
                (
                    nested_loops(&[[1, 2, 3], [4, 5, 6]], 5),
                    nested_loops(&[[1, 2, 3]], 9),
                ),
            );
            r.rec(
                "match_tail",
                4,
                (
                    match_tail(Some(0)),
                    match_tail(Some(4)),
                    match_tail(Some(3)),
                    match_tail(None),
                ),
            );
            r.rec("if_let_tail", 2, (if_let_tail(Some("abc")), if_let_tail(None)));
            r.rec(
                "let_else",
                3,
                (let_else("2+3"), let_else("nope"), let_else("a+1")),
            );
            r.rec("shadow", 1, shadow(4));
            r.rec("move_closure", 1, move_closure(vec![2, 3], 10));
            {
                let data = [4u32, 5, 6];
                // SAFETY: `data` has 3 values.
                let got = unsafe { read_at(data.as_ptr(), 2) };
                r.rec("read_at", 1, got);
            }
            {
                let f: extern "C" fn(u32, u32) -> u32 = c_mul;
                r.rec("c_mul", 2, (c_mul(3, 4), f(5, 6)));
            }
            r.rec("must_use_sum", 1, must_use_sum(2, 3));
            r.rec("inline_never", 1, inline_never(1));
            r.rec("cfg_shape", 1, cfg_shape());
            r.rec("cfg_after", 1, cfg_after());
            r.rec("documented", 1, documented(21));
            r.rec("nested_items", 1, nested_items(5));
            r.rec("body_statics", 2, (body_statics(1), body_statics(2)));
            r.rec("diverge", 1, $crate::catch(|| -> u32 { diverge("boom") }));
            r.rec(
                "checked_half",
                2,
                (
                    $crate::catch(|| checked_half(8)),
                    $crate::catch(|| checked_half(7)),
                ),
            );
            r.rec("factorial", 5, factorial(5));
            // is_even(4): 5 calls; is_even(3): 4 calls.
            r.rec("is_even", 9, (is_even(4), is_even(3)));

            // Tuples, arrays, slices, Strings, Vecs, many parameters, closures, iterators.
            r.rec("tuple_swap", 1, tuple_swap((1, "one".to_owned())));
            r.rec("array_rev", 1, array_rev([1, 2, 3, 4]));
            r.rec("slice_stats", 1, slice_stats(&[3, -1, 7]));
            r.rec("shout", 1, shout("hey".to_owned()));
            r.rec("sorted", 1, sorted(vec![3, 1, 2]));
            r.rec("words", 1, words("a bc  def"));
            r.rec("eight", 1, eight(1, 2, 3, 4, -5, "f", "g".to_owned(), true));
            {
                let mut counter = 0;
                let total = call_repeatedly(
                    || {
                        counter += 1;
                        counter * 10
                    },
                    3,
                );
                r.rec("call_repeatedly", 1, (total, counter));
            }
            {
                let mut it = 1..=5u32;
                let got = take_two(&mut it);
                let rest: Vec<u32> = it.collect();
                r.rec("take_two", 1, (got, rest));
            }

            // Clashing names.
            r.rec("ordinary_names", 1, ordinary_names(1, 2, 3, 4, 5, 6, 7, 8));
            r.rec("internal_names", 1, internal_names(1, 2, 3, 4, 5, 6));
            r.rec("crate_names", 1, crate_names(1, 2, 3));
            r.rec("body_locals", 1, body_locals(3));
            r.rec("names_result", 2, (names_result("r", "o"), names_result("", "o")));

            // Result returns.
            r.rec("parse_num", 2, (parse_num(" 41 "), parse_num("x")));
            r.rec("early_err", 2, (early_err(-1), early_err(2)));
            r.rec(
                "boxed_err",
                3,
                (boxed_err("4"), boxed_err("0"), boxed_err("z")),
            );
            r.rec("alias_result", 2, (alias_result("abc"), alias_result("a b")));
            {
                let v = vec![1, 2];
                r.rec("result_ref", 2, (result_ref(&v, 1), result_ref(&v, 5)));
            }
            {
                let mut v = vec![1, 2];
                if let Ok(m) = result_mut(&mut v, 0) {
                    *m = 50;
                }
                let e = result_mut(&mut v, 9).map(|m| *m);
                r.rec("result_mut", 2, (e, v));
            }
            r.rec("result_unit", 2, (result_unit(true), result_unit(false)));
            r.rec(
                "result_generic",
                3,
                (
                    result_generic::<u8>("7"),
                    result_generic::<u8>("300"),
                    result_generic::<bool>("true"),
                ),
            );
            r.rec(
                "result_let_else",
                3,
                (
                    result_let_else(Some("abc")),
                    result_let_else(None),
                    result_let_else(Some("")),
                ),
            );
            r.rec(
                "result_labeled",
                2,
                (result_labeled(&[1, 2, 3]), result_labeled(&[1, -2])),
            );
            r.rec("result_io", 2, (result_io("ab"), result_io("")));
            r.rec(
                "result_panics",
                3,
                (
                    $crate::catch(|| result_panics(5)),
                    $crate::catch(|| result_panics(500)),
                    $crate::catch(|| result_panics(-1)),
                ),
            );
            {
                let mut out = String::new();
                let a = result_fmt(&mut out, 1);
                let b = result_fmt(&mut out, 2);
                r.rec("result_fmt", 2, (a, b, out));
            }
            r.rec(
                "result_option",
                3,
                (
                    result_option(&["5"]),
                    result_option(&[]),
                    result_option(&["q"]),
                ),
            );
            {
                let mut seen = Vec::new();
                let res = result_closure_mut(
                    |n| {
                        seen.push(n);
                        if n > 2 { Err(format!("stop at {n}")) } else { Ok(n * 10) }
                    },
                    5,
                );
                let ok = result_closure_mut(Ok, 3);
                r.rec("result_closure_mut", 2, (res, ok, seen));
            }
            {
                // a_under_tokio_main 1, later 1.
                r.rec("a_under_tokio_main", 2, a_under_tokio_main(3));
            }
        }

        fn run_async(r: &mut $crate::Recorder) {
            let runtime = $crate::__deps::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime");
            runtime.block_on(async {
                // Receivers.
                {
                    let a = Acc {
                        total: 4,
                        log: vec!["x".to_owned()],
                    };
                    r.rec("Acc::a_into_total", 1, a.a_into_total().await);
                }
                r.rec(
                    "Acc::a_with_entry",
                    2,
                    Acc::default()
                        .a_with_entry("a".to_owned())
                        .await
                        .a_with_entry("b".to_owned())
                        .await,
                );
                {
                    let a = Acc::new(8);
                    let t = a.a_total().await;
                    r.rec("Acc::a_total", 2, (t, a));
                }
                {
                    let mut a = Acc::default();
                    let first = a.a_deposit(2).await;
                    let second = a.a_deposit(3).await;
                    r.rec("Acc::a_deposit", 2, (first, second, a));
                }
                {
                    let mut a = Acc::default();
                    a.a_last_entry_mut().await.push_str("async");
                    a.a_last_entry_mut().await.push('?');
                    r.rec("Acc::a_last_entry_mut", 2, a);
                }
                {
                    let a = Acc {
                        total: 0,
                        log: vec!["e".to_owned()],
                    };
                    let entries = a.a_entries().await.to_vec();
                    r.rec("Acc::a_entries", 1, (entries, a));
                }
                r.rec(
                    "Acc::a_boxed_total",
                    1,
                    Box::new(Acc {
                        total: 12,
                        log: Vec::new(),
                    })
                    .a_boxed_total()
                    .await,
                );
                {
                    let mut a = Acc::default();
                    let v = Pin::new(&mut a).a_pinned_add(6).await;
                    let w = Pin::new(&mut a).a_pinned_add(7).await;
                    r.rec("Acc::a_pinned_add", 2, (v, w, a));
                }
                {
                    let s = Rc::new(Shared::default());
                    let a = Rc::clone(&s).a_rc_hit().await;
                    let b = Rc::clone(&s).a_rc_hit().await;
                    r.rec("Shared::a_rc_hit", 2, (a, b, s.hits.get(), Rc::strong_count(&s)));
                }
                {
                    let s = Arc::new(Atomic::default());
                    let a = Arc::clone(&s).a_arc_hit().await;
                    let b = Arc::clone(&s).a_arc_hit().await;
                    r.rec(
                        "Atomic::a_arc_hit",
                        2,
                        (a, b, s.hits.load(Ordering::SeqCst), Arc::strong_count(&s)),
                    );
                }
                {
                    let mut acc = Account { balance: 10 };
                    let a = acc.a_withdraw("4").await;
                    let b = acc.a_withdraw("40").await;
                    let c = acc.a_withdraw("four").await;
                    r.rec("Account::a_withdraw", 3, (a, b, c, acc));
                }
                {
                    let mut w = Wrapper::wrap("w".to_owned());
                    let got = w.a_get().await;
                    r.rec("Wrapper::a_get", 2, (got, w));
                }
                {
                    let mut s: Stack<u8> = Stack::new();
                    let n = s.a_push_all(vec![1, 2, 3]).await;
                    r.rec("Stack::a_push_all", 2, (n, s));
                }

                // Native async fn in traits.
                {
                    let mut t = Table {
                        rows: vec![10, 20, 30],
                    };
                    let one = t.fetch(0).await;
                    let pair = t.fetch_pair(1).await;
                    let scaled = t.fetch_scaled(2).await;
                    let remembered = t.remember(40).await;
                    // fetch 1, fetch_pair 1 + 2, fetch_scaled 1 + 1, remember 1.
                    r.rec("Fetch for Table", 7, (one, pair, scaled, remembered, t));
                }

                // #[async_trait].
                {
                    let mut s = MemStore::default();
                    let p1 = s.put("a", 1).await;
                    let p2 = s.put("a", 2).await;
                    let got = s.get("a").await;
                    let missing = s.get("b").await;
                    let or = s.get_or("b", 9).await;
                    let tried = s.try_get("a").await;
                    let tried_missing = s.try_get("z").await;
                    let tried_empty = s.try_get("").await;
                    let appended = s.append("k".to_owned(), 5).await;
                    // put 2, get 2, get_or 1 + 1, try_get 2 × 2 + 1, append 1.
                    r.rec(
                        "Store for MemStore",
                        12,
                        (p1, p2, got, missing, or, tried, tried_missing, tried_empty, appended, s),
                    );
                }

                {
                    let mut c = Cache::default();
                    let a = c.look("ab").await;
                    let b = c.look("abc").await;
                    let p = c.ping(4).await;
                    // look 2, ping 1.
                    r.rec("Lookup and Ping for Cache", 3, (a, b, p, c));
                }

                // Free fns.
                a_noop().await;
                r.rec("a_noop", 1, "called");
                r.rec("a_mut_param", 2, (a_mut_param(1).await, a_mut_param(5).await));
                {
                    let mut v = vec![1];
                    let a = a_push(&mut v, 2).await;
                    let b = a_push(&mut v, 3).await;
                    r.rec("a_push", 2, (a, b, v));
                }
                {
                    let mut v = [1, 2, 3];
                    a_mut_slice(&mut v).await;
                    a_mut_slice(&mut v[1..]).await;
                    r.rec("a_mut_slice", 2, v);
                }
                {
                    let mut c = Clicks::default();
                    let n = a_dyn_mut(&mut c).await;
                    // a_dyn_mut 1, incr 1, count 1.
                    r.rec("a_dyn_mut", 3, (n, c));
                }
                {
                    let mut v = 2;
                    let a = a_opt_mut(Some(&mut v)).await;
                    let b = a_opt_mut(None).await;
                    r.rec("a_opt_mut", 2, (a, b, v));
                }
                {
                    let mut v = Vec::new();
                    *a_first_mut(&mut v).await += 3;
                    let mut w = vec![5, 6];
                    *a_first_mut(&mut w).await *= 2;
                    r.rec("a_first_mut", 2, (v, w));
                }
                {
                    let a = String::from("long one");
                    let b = String::from("short");
                    r.rec("a_longest", 1, a_longest(&a, &b).await);
                }
                r.rec("a_first_word", 1, a_first_word("first second").await);
                r.rec("a_show", 2, (a_show(1.5).await, a_show(('c', "s")).await));
                {
                    let items = vec!["a", "b"];
                    r.rec("a_nth", 2, (a_nth(&items, 1).await, a_nth(&items, 9).await));
                }
                r.rec("a_total", 2, (a_total(vec![1, 2]).await, a_total(3..6).await));
                r.rec(
                    "a_const_generic",
                    2,
                    (a_const_generic([1, 2]).await, a_const_generic([0; 5]).await),
                );
                r.rec("a_tuple_pattern", 1, a_tuple_pattern((3, 4)).await);
                r.rec("a_struct_pattern", 1, a_struct_pattern(Point { x: 1, y: 8 }).await);
                {
                    let pair = (6, 7);
                    r.rec("a_ref_pattern", 1, (a_ref_pattern(&pair).await, pair));
                }
                r.rec("a_early", 2, (a_early(-3).await, a_early(3).await));
                r.rec("a_option_try", 2, (a_option_try(&[4]).await, a_option_try(&[]).await));
                r.rec("a_let_else", 2, (a_let_else("21").await, a_let_else("x").await));
                r.rec("a_labeled", 2, (a_labeled(3).await, a_labeled(8).await));
                r.rec("a_move_closure", 1, a_move_closure(vec![1, 2], 3).await);
                // a_impl_debug 1, later 1.
                r.rec("a_impl_debug", 2, a_impl_debug(5).await);
                {
                    let x = 41;
                    // SAFETY: `x` outlives the call.
                    r.rec("a_unsafe_read", 1, unsafe { a_unsafe_read(&x) }.await);
                }
                {
                    // The body runs at the first poll, and every parameter is dropped when the
                    // future ends, named in the body or not.
                    let log = Rc::new(RefCell::new(Vec::new()));
                    let future = a_holds_guard(Noted(log.clone(), "guard"), log.clone());
                    log.borrow_mut().push("made");
                    let held = future.await;
                    let wild = a_wild_param(Noted(log.clone(), "wild"), log.clone()).await;
                    a_two_guards(Noted(log.clone(), "first"), Noted(log.clone(), "second"), log.clone())
                        .await;
                    let named =
                        a_names_first(Noted(log.clone(), "named"), Noted(log.clone(), "unnamed"))
                            .await;
                    // a_holds_guard 1, later 1, a_wild_param 1, a_two_guards 1, a_names_first 1.
                    r.rec("a_holds_guard", 5, (held, wild, named, log.borrow().clone()));
                }
                // a_awaits_inner 1, a_mut_param 1, later 1.
                r.rec("a_awaits_inner", 3, a_awaits_inner(2).await);
                // a_fib(4): 9 calls.
                r.rec("a_fib", 9, a_fib(4).await);
                r.rec("later", 1, later(4).await);
                r.rec("later_ref", 1, later_ref("four").await);
                {
                    let mut v = vec![9];
                    let len = a_internal_names(&mut v, 1, 2, 3, 4).await;
                    r.rec("a_internal_names", 1, (len, v));
                }
                r.rec(
                    "a_parse",
                    3,
                    (a_parse("").await, a_parse(" 21 ").await, a_parse("x").await),
                );
                {
                    let mut v = Vec::new();
                    let a = a_result_mut(&mut v, 4).await;
                    let b = a_result_mut(&mut v, 0).await;
                    r.rec("a_result_mut", 2, (a, b, v));
                }
                {
                    let v = [3, 4];
                    r.rec(
                        "a_result_ref",
                        2,
                        (a_result_ref(&v, 0).await, a_result_ref(&v, 2).await),
                    );
                }
                r.rec("a_boxed_err", 2, (a_boxed_err("1").await, a_boxed_err("?").await));
            });
            // Panics inside `block_on` unwind out of it.
            r.rec(
                "a_checked",
                2,
                (
                    $crate::catch(|| runtime.block_on(a_checked(4))),
                    $crate::catch(|| runtime.block_on(a_checked(-4))),
                ),
            );
        }
    };
}

/// The corpus without attributes: the reference every instrumented variant must match.
pub mod plain {
    crate::corpus! { all: [], x: [], result: [] }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shape_names_are_unique() {
        let rows = super::plain::run_all();
        let mut names: Vec<&str> = rows.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate shape names");
    }

    #[test]
    fn runs_are_deterministic() {
        assert_eq!(super::plain::run_all(), super::plain::run_all());
        assert_eq!(super::traced_calls(), super::plain::run_counted().1);
    }
}
