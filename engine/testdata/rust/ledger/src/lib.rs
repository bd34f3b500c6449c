//! A Rust ledger canister built without ic-cdk: the System API is declared
//! by hand below, so the fixture builds offline with Debian's rustc 1.63
//! and the serde/bincode crates Debian ships.
//!
//! State: a `BTreeMap<u64, Account>` on the heap. `canister_pre_upgrade`
//! serialises it with bincode into stable memory through the 32-bit stable
//! API (`stable_grow` / `stable_write`), as ic-cdk's `stable_save` did before
//! `stable64`; `canister_post_upgrade` reads it back. Arguments and replies
//! are Candid: `nat64` in, `nat64` or `()` out.
//!
//! Build options (see engine/testdata/regen.sh):
//! - `--cfg moved_data` adds a static table in front of the ledger's own
//!   data, so the data segments move (a layout-incompatible rebuild);
//! - `--cfg changed_checksum` changes only the body of `checksum`
//!   (a function-level change, same layout).

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

mod ic0 {
    #[link(wasm_import_module = "ic0")]
    extern "C" {
        pub fn msg_arg_data_size() -> i32;
        pub fn msg_arg_data_copy(dst: i32, offset: i32, size: i32);
        pub fn msg_reply_data_append(src: i32, size: i32);
        pub fn msg_reply();
        pub fn trap(src: i32, size: i32) -> !;
        pub fn debug_print(src: i32, size: i32);
        pub fn stable_size() -> i32;
        pub fn stable_grow(new_pages: i32) -> i32;
        pub fn stable_read(dst: i32, offset: i32, size: i32);
        pub fn stable_write(offset: i32, src: i32, size: i32);
        pub fn stable64_size() -> i64;
        pub fn stable64_grow(new_pages: i64) -> i64;
        pub fn time() -> i64;
    }
}

/// One account of the ledger.
#[derive(Serialize, Deserialize, Clone)]
struct Account {
    owner: [u8; 29],
    balance: u64,
    memo: String,
}

thread_local! {
    static LEDGER: RefCell<BTreeMap<u64, Account>> = RefCell::new(BTreeMap::new());
}

#[cfg(moved_data)]
#[no_mangle]
#[used]
static FEE_TABLE: [u64; 512] = {
    let mut t = [0u64; 512];
    let mut i = 0;
    while i < 512 {
        t[i] = (i as u64) * 10_000 + 7;
        i += 1;
    }
    t
};

const PAGE: u64 = 65536;

fn print(s: &str) {
    unsafe { ic0::debug_print(s.as_ptr() as i32, s.len() as i32) }
}

fn trap(s: &str) -> ! {
    unsafe { ic0::trap(s.as_ptr() as i32, s.len() as i32) }
}

fn arg() -> Vec<u8> {
    unsafe {
        let n = ic0::msg_arg_data_size() as usize;
        let mut v = vec![0u8; n];
        ic0::msg_arg_data_copy(v.as_mut_ptr() as i32, 0, n as i32);
        v
    }
}

/// Decodes a Candid argument list holding one nat64.
fn arg_nat64() -> u64 {
    let a = arg();
    // "DIDL", 0 types, 1 argument of type nat64 (sleb -8 = 0x78), 8 bytes.
    if a.len() != 15 || &a[..7] != b"DIDL\x00\x01\x78" {
        trap("ledger: expected one nat64 argument");
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&a[7..]);
    u64::from_le_bytes(b)
}

fn reply(bytes: &[u8]) {
    unsafe {
        ic0::msg_reply_data_append(bytes.as_ptr() as i32, bytes.len() as i32);
        ic0::msg_reply();
    }
}

fn reply_unit() {
    reply(b"DIDL\x00\x00");
}

fn reply_nat64(n: u64) {
    let mut r = b"DIDL\x00\x01\x78".to_vec();
    r.extend_from_slice(&n.to_le_bytes());
    reply(&r);
}

fn set_panic_hook() {
    // ic-cdk's hook: a panic becomes ic0.trap with its message and location.
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => match info.payload().downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => "Box<Any>".to_string(),
            },
        };
        let text = match info.location() {
            Some(l) => format!("Panicked at '{}', {}:{}:{}", msg, l.file(), l.line(), l.column()),
            None => format!("Panicked at '{}'", msg),
        };
        trap(&text);
    }));
}

fn account(id: u64) -> Account {
    let mut owner = [0u8; 29];
    for (i, b) in owner.iter_mut().enumerate() {
        *b = (id as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    Account { owner, balance: id * 1_000, memo: format!("account #{}", id) }
}

#[export_name = "canister_init"]
pub extern "C" fn init() {
    set_panic_hook();
}

/// insert(n): adds n accounts after the highest id.
#[export_name = "canister_update insert"]
pub extern "C" fn insert() {
    let n = arg_nat64();
    LEDGER.with(|l| {
        let mut l = l.borrow_mut();
        let next = l.keys().next_back().map(|k| k + 1).unwrap_or(0);
        for id in next..next + n {
            l.insert(id, account(id));
        }
    });
    reply_unit();
}

#[export_name = "canister_query count"]
pub extern "C" fn count() {
    reply_nat64(LEDGER.with(|l| l.borrow().len() as u64));
}

#[export_name = "canister_query checksum"]
pub extern "C" fn checksum() {
    reply_nat64(LEDGER.with(|l| sum(&l.borrow())));
}

#[cfg(not(changed_checksum))]
fn sum(l: &BTreeMap<u64, Account>) -> u64 {
    l.iter().fold(17u64, |h, (k, a)| h.wrapping_mul(31).wrapping_add(k ^ a.balance))
}

#[cfg(changed_checksum)]
fn sum(l: &BTreeMap<u64, Account>) -> u64 {
    l.iter().fold(17u64, |h, (k, a)| h.wrapping_mul(37).wrapping_add(k ^ a.balance))
}

/// fail(): an ic-cdk-style panic, trapping with "Panicked at '...'".
#[export_name = "canister_update fail"]
pub extern "C" fn fail() {
    set_panic_hook();
    let size = LEDGER.with(|l| l.borrow().len());
    panic!("ledger invariant violated: {} accounts", size);
}

/// reserve(n): grows stable memory by n pages through the 64-bit API, as a
/// canister that keeps other data in stable memory (ic-stable-structures)
/// does. Past 65,536 pages (4 GiB) the 32-bit calls of pre_upgrade trap:
/// the incident.
#[export_name = "canister_update reserve"]
pub extern "C" fn reserve() {
    let n = arg_nat64();
    if unsafe { ic0::stable64_grow(n as i64) } < 0 {
        trap("ledger: cannot grow stable memory");
    }
    let pages = unsafe { ic0::stable64_size() } as u64;
    print(&format!("ledger: stable memory is {} pages", pages));
    reply_nat64(pages);
}

/// stamp(): prints the time, to show debug prints in traces.
#[export_name = "canister_update stamp"]
pub extern "C" fn stamp() {
    let t = unsafe { ic0::time() };
    print(&format!("ledger: stamped at {}", t));
    reply_unit();
}

#[export_name = "canister_pre_upgrade"]
pub extern "C" fn pre_upgrade() {
    set_panic_hook();
    let bytes = LEDGER.with(|l| bincode::serialize(&*l.borrow())).expect("serialise ledger");
    stable_save(&bytes);
}

#[export_name = "canister_post_upgrade"]
pub extern "C" fn post_upgrade() {
    set_panic_hook();
    let bytes = stable_load();
    if bytes.is_empty() {
        return;
    }
    let l: BTreeMap<u64, Account> = bincode::deserialize(&bytes).expect("deserialise ledger");
    print(&format!("ledger: restored {} accounts", l.len()));
    LEDGER.with(|cur| *cur.borrow_mut() = l);
}

/// Writes an 8-byte length and the bytes at stable offset 0 with the 32-bit
/// API, growing stable memory as needed (ic-cdk's StableWriter).
fn stable_save(bytes: &[u8]) {
    let need = 8 + bytes.len() as u64;
    unsafe {
        let have = ic0::stable_size() as u64 * PAGE;
        if need > have {
            let pages = (need - have + PAGE - 1) / PAGE;
            if ic0::stable_grow(pages as i32) < 0 {
                trap("ledger: out of stable memory");
            }
        }
        let len = (bytes.len() as u64).to_le_bytes();
        ic0::stable_write(0, len.as_ptr() as i32, 8);
        ic0::stable_write(8, bytes.as_ptr() as i32, bytes.len() as i32);
    }
}

fn stable_load() -> Vec<u8> {
    unsafe {
        if ic0::stable_size() == 0 {
            return Vec::new();
        }
        let mut len = [0u8; 8];
        ic0::stable_read(len.as_mut_ptr() as i32, 0, 8);
        let n = u64::from_le_bytes(len) as usize;
        let mut v = vec![0u8; n];
        ic0::stable_read(v.as_mut_ptr() as i32, 8, n as i32);
        v
    }
}

/// The Candid interface, as ic-cdk's export_candid puts it in the module.
#[link_section = "icp:public candid:service"]
#[used]
static CANDID_SERVICE: [u8; 175] = *b"service : {\n  insert : (nat64) -> ();\n  count : () -> (nat64) query;\n  checksum : () -> (nat64) query;\n  fail : () -> ();\n  stamp : () -> ();\n  reserve : (nat64) -> (nat64);\n}";
