//! An asset canister reduced to its certification: the pattern of dfinity/sdk's
//! ic-certified-assets (src/canisters/frontend/ic-certified-assets, its v1
//! certification), built without ic-cdk, ic-certified-map, sha2, serde_cbor,
//! base64 or candid: the System API, SHA-256, the hash tree, CBOR, base64 and
//! the Candid it needs are written below, so the fixture builds offline with
//! Debian's rustc 1.63 and no crates.
//!
//! - `store : (key : text, content_type : text, body : blob) -> ()` keeps the
//!   asset, puts `sha256(body)` under its key in the asset tree and sets the
//!   certified data to `labeled_hash("http_assets", asset tree root)`, as
//!   ic-certified-assets' `set_root_hash` does.
//! - `http_request : (HttpRequest) -> (HttpResponse) query` answers 200 with
//!   the body, its Content-Type and the v1 header
//!   `IC-Certificate: certificate=:<base64>:, tree=:<base64>:` (`witness_to_header`:
//!   the data certificate, and the self-described CBOR of
//!   `labeled("http_assets", witness)`, the witness pruning every subtree
//!   that does not hold the key); 404 for a key never stored. The URL's query
//!   string is ignored, as the asset canister's.
//!
//! The asset tree is a balanced binary tree of forks over the keys in sorted
//! order with `labeled(key, leaf(sha256))` at the leaves; ic-certified-map's
//! red-black tree shapes its forks differently, which a verifier does not see:
//! it reconstructs the root hash and looks up `["http_assets", key]`.
//! HttpResponse has no `streaming_strategy` (an absent `opt` field decodes as
//! null). Assets live on the heap only (no upgrade hooks).

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
        pub fn certified_data_set(src: i32, size: i32);
        pub fn data_certificate_present() -> i32;
        pub fn data_certificate_size() -> i32;
        pub fn data_certificate_copy(dst: i32, offset: i32, size: i32);
    }
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

fn reply(bytes: &[u8]) {
    unsafe {
        ic0::msg_reply_data_append(bytes.as_ptr() as i32, bytes.len() as i32);
        ic0::msg_reply();
    }
}

fn data_certificate() -> Option<Vec<u8>> {
    unsafe {
        if ic0::data_certificate_present() == 0 {
            return None;
        }
        let n = ic0::data_certificate_size() as usize;
        let mut v = vec![0u8; n];
        ic0::data_certificate_copy(v.as_mut_ptr() as i32, 0, n as i32);
        Some(v)
    }
}

// ---- SHA-256 (FIPS 180-4) ----

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut msg = Vec::new();
    for p in parts {
        msg.extend_from_slice(p);
    }
    let bits = (msg.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
        }
        for i in 0..8 {
            h[i] = h[i].wrapping_add(v[i]);
        }
    }
    let mut out = [0u8; 32];
    for i in 0..8 {
        out[4 * i..4 * i + 4].copy_from_slice(&h[i].to_be_bytes());
    }
    out
}

// ---- Hash tree (interface specification, "Certification": HashTree) ----

enum Tree {
    Empty,
    Fork(Box<Tree>, Box<Tree>),
    Labeled(Vec<u8>, Box<Tree>),
    Leaf(Vec<u8>),
    Pruned([u8; 32]),
}

/// The domain separator of a hash tree node: its length, then its text.
fn domain(s: &str) -> Vec<u8> {
    let mut v = vec![s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

impl Tree {
    /// reconstruct: the root hash.
    fn hash(&self) -> [u8; 32] {
        match self {
            Tree::Empty => sha256(&[&domain("ic-hashtree-empty")]),
            Tree::Fork(l, r) => sha256(&[&domain("ic-hashtree-fork"), &l.hash(), &r.hash()]),
            Tree::Labeled(label, t) => sha256(&[&domain("ic-hashtree-labeled"), label, &t.hash()]),
            Tree::Leaf(data) => sha256(&[&domain("ic-hashtree-leaf"), data]),
            Tree::Pruned(h) => *h,
        }
    }

    /// The CBOR arrays ic-certified-map's Serialize writes: [0], [1, l, r],
    /// [2, label, t], [3, data], [4, hash]; labels and data as byte strings.
    fn cbor(&self, out: &mut Vec<u8>) {
        match self {
            Tree::Empty => {
                cbor_head(out, 4, 1);
                cbor_head(out, 0, 0);
            }
            Tree::Fork(l, r) => {
                cbor_head(out, 4, 3);
                cbor_head(out, 0, 1);
                l.cbor(out);
                r.cbor(out);
            }
            Tree::Labeled(label, t) => {
                cbor_head(out, 4, 3);
                cbor_head(out, 0, 2);
                cbor_bytes(out, label);
                t.cbor(out);
            }
            Tree::Leaf(data) => {
                cbor_head(out, 4, 2);
                cbor_head(out, 0, 3);
                cbor_bytes(out, data);
            }
            Tree::Pruned(h) => {
                cbor_head(out, 4, 2);
                cbor_head(out, 0, 4);
                cbor_bytes(out, h);
            }
        }
    }
}

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n < 0x100 {
        out.push(m | 24);
        out.push(n as u8);
    } else if n < 0x10000 {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n < 0x1_0000_0000 {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

/// The asset tree over sorted (key, sha256) entries; with `want`, the
/// witness for that key: every subtree not holding it pruned to its hash.
fn asset_tree(entries: &[(&String, &[u8; 32])], want: Option<&str>) -> Tree {
    let t = match entries.len() {
        0 => Tree::Empty,
        1 => Tree::Labeled(entries[0].0.as_bytes().to_vec(), Box::new(Tree::Leaf(entries[0].1.to_vec()))),
        n => {
            let (l, r) = entries.split_at(n / 2);
            Tree::Fork(Box::new(asset_tree(l, want)), Box::new(asset_tree(r, want)))
        }
    };
    match want {
        Some(k) if !entries.iter().any(|(key, _)| key.as_str() == k) => Tree::Pruned(t.hash()),
        _ => t,
    }
}

// ---- base64 (RFC 4648, with padding, as base64::encode) ----

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

// ---- Candid: the values these two methods take and give ----

enum Value {
    Text(String),
    Blob(Vec<u8>),
    Record(Vec<(u32, Value)>),
    Other,
}

/// The Candid field id of a name (the specification's hash).
fn field_id(name: &str) -> u32 {
    name.bytes().fold(0u32, |h, b| h.wrapping_mul(223).wrapping_add(b as u32))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    types: Vec<(i64, Vec<(u32, i64)>)>, // opcode; inner type (opt, vec) or fields
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let b = *self.b.get(self.pos).unwrap_or_else(|| trap("assets: truncated Candid argument"));
        self.pos += 1;
        b
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        if self.b.len() - self.pos < n {
            trap("assets: truncated Candid argument");
        }
        self.pos += n;
        &self.b[self.pos - n..self.pos]
    }
    fn leb(&mut self) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = self.byte();
            if shift < 64 {
                v |= ((b & 0x7f) as u64) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    }
    fn sleb(&mut self) -> i64 {
        let (mut v, mut shift) = (0i64, 0);
        loop {
            let b = self.byte();
            if shift < 64 {
                v |= ((b & 0x7f) as i64) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return v;
            }
        }
    }

    /// Reads "DIDL", the type table and the argument types.
    fn header(&mut self) -> Vec<i64> {
        if self.bytes(4) != b"DIDL" {
            trap("assets: the argument is not Candid");
        }
        for _ in 0..self.leb() {
            let op = self.sleb();
            let inner = match op {
                -18 | -19 => vec![(0, self.sleb())],
                -20 | -21 => (0..self.leb()).map(|_| (self.leb() as u32, self.sleb())).collect(),
                _ => trap("assets: unsupported Candid type in the argument"),
            };
            self.types.push((op, inner));
        }
        (0..self.leb()).map(|_| self.sleb()).collect()
    }

    fn value(&mut self, t: i64) -> Value {
        if t >= 0 {
            let (op, inner) = self.types.get(t as usize).cloned().unwrap_or_else(|| trap("assets: bad Candid type index"));
            return match op {
                -18 => {
                    if self.byte() == 1 {
                        self.value(inner[0].1);
                    }
                    Value::Other
                }
                -19 => {
                    let n = self.leb() as usize;
                    if inner[0].1 == -5 {
                        return Value::Blob(self.bytes(n).to_vec());
                    }
                    for _ in 0..n {
                        self.value(inner[0].1);
                    }
                    Value::Other
                }
                -20 => Value::Record(inner.iter().map(|&(id, ft)| (id, self.value(ft))).collect()),
                _ => {
                    let i = self.leb() as usize;
                    let ft = inner.get(i).unwrap_or_else(|| trap("assets: bad variant index")).1;
                    self.value(ft);
                    Value::Other
                }
            };
        }
        match t {
            -1 | -16 => {}
            -2 | -5 | -9 => {
                self.bytes(1);
            }
            -6 | -10 => {
                self.bytes(2);
            }
            -7 | -11 | -13 => {
                self.bytes(4);
            }
            -8 | -12 | -14 => {
                self.bytes(8);
            }
            -3 => {
                self.leb();
            }
            -4 => {
                self.sleb();
            }
            -15 => {
                let n = self.leb() as usize;
                let s = std::str::from_utf8(self.bytes(n)).unwrap_or_else(|_| trap("assets: text is not UTF-8"));
                return Value::Text(s.to_string());
            }
            _ => trap("assets: unsupported Candid type in the argument"),
        }
        Value::Other
    }
}

fn args() -> Vec<Value> {
    let a = arg();
    let mut r = Reader { b: &a, pos: 0, types: Vec::new() };
    let ts = r.header();
    ts.into_iter().map(|t| r.value(t)).collect()
}

fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    leb(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes HttpResponse = record { status_code : nat16; headers : vec
/// record { text; text }; body : blob }.
fn http_response(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut fields = [("status_code", 0u8), ("headers", 1), ("body", 2)];
    fields.sort_by_key(|f| field_id(f.0));
    let mut out = b"DIDL".to_vec();
    leb(&mut out, 4);
    // 0: the response record; 1: vec 3; 2: blob; 3: record { text; text }.
    out.push(0x6c);
    leb(&mut out, 3);
    for (name, kind) in fields.iter() {
        leb(&mut out, field_id(name) as u64);
        out.push(match kind {
            0 => 0x7a, // nat16
            1 => 1,
            _ => 2,
        });
    }
    out.extend_from_slice(&[0x6d, 3, 0x6d, 0x7b, 0x6c, 2, 0, 0x71, 1, 0x71]);
    out.extend_from_slice(&[1, 0]);
    for (_, kind) in fields.iter() {
        match kind {
            0 => out.extend_from_slice(&status.to_le_bytes()),
            1 => {
                leb(&mut out, headers.len() as u64);
                for (k, v) in headers {
                    text(&mut out, k);
                    text(&mut out, v);
                }
            }
            _ => {
                leb(&mut out, body.len() as u64);
                out.extend_from_slice(body);
            }
        }
    }
    out
}

// ---- The canister ----

struct Asset {
    content_type: String,
    body: Vec<u8>,
    sha256: [u8; 32],
}

thread_local! {
    static ASSETS: RefCell<BTreeMap<String, Asset>> = RefCell::new(BTreeMap::new());
}

/// The hash of labeled("http_assets", tree), the canister's certified data.
fn certified_root(assets: &BTreeMap<String, Asset>) -> [u8; 32] {
    let entries: Vec<_> = assets.iter().map(|(k, a)| (k, &a.sha256)).collect();
    Tree::Labeled(b"http_assets".to_vec(), Box::new(asset_tree(&entries, None))).hash()
}

#[export_name = "canister_update store"]
pub extern "C" fn store() {
    let mut a = args().into_iter();
    let (key, content_type, body) = match (a.next(), a.next(), a.next()) {
        (Some(Value::Text(k)), Some(Value::Text(ct)), Some(Value::Blob(b))) => (k, ct, b),
        _ => trap("assets: store takes (text, text, blob)"),
    };
    ASSETS.with(|s| {
        let mut s = s.borrow_mut();
        let sha256 = sha256(&[&body]);
        s.insert(key, Asset { content_type, body, sha256 });
        let root = certified_root(&s);
        unsafe { ic0::certified_data_set(root.as_ptr() as i32, root.len() as i32) }
    });
    reply(b"DIDL\x00\x00");
}

#[export_name = "canister_query http_request"]
pub extern "C" fn http_request() {
    let url = match args().into_iter().next() {
        Some(Value::Record(fields)) => fields.into_iter().find_map(|(id, v)| match v {
            Value::Text(s) if id == field_id("url") => Some(s),
            _ => None,
        }),
        _ => None,
    };
    let url = url.unwrap_or_else(|| trap("assets: http_request takes an HttpRequest record with a url"));
    let path = url.split('?').next().unwrap_or("").to_string();
    ASSETS.with(|s| {
        let s = s.borrow();
        let asset = match s.get(&path) {
            Some(a) => a,
            None => return reply(&http_response(404, &[], b"not found")),
        };
        let entries: Vec<_> = s.iter().map(|(k, a)| (k, &a.sha256)).collect();
        let witness = Tree::Labeled(b"http_assets".to_vec(), Box::new(asset_tree(&entries, Some(&path))));
        let mut tree = vec![0xd9, 0xd9, 0xf7]; // self-described CBOR
        witness.cbor(&mut tree);
        let cert = data_certificate().unwrap_or_else(|| trap("no data certificate available"));
        let header = format!("certificate=:{}:, tree=:{}:", base64(&cert), base64(&tree));
        let headers = [("Content-Type", asset.content_type.clone()), ("IC-Certificate", header)];
        reply(&http_response(200, &headers, &asset.body));
    });
}

/// The Candid interface, as ic-cdk's export_candid puts it in the module.
const DID: &[u8] = include_bytes!("../assets.did");

#[link_section = "icp:public candid:service"]
#[used]
static CANDID_SERVICE: [u8; DID.len()] = *include_bytes!("../assets.did");
