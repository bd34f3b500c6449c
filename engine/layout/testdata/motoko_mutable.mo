// motoko_mutable: stable variables that need Motoko's extensions of
// Candid (mutable arrays and fields, a value reachable twice) next to a
// Region, so stable memory uses the version 2 layout with user pages.
import Prim "mo:prim";

actor {
  stable var counts : [var Nat] = [var 1, 2, 3];
  stable let shared1 : [var Nat] = [var 7];
  stable let shared2 = shared1;
  stable var record : { var hits : Nat; name : Text } = { var hits = 0; name = "r" };
  stable var big : Int = -12345678901234567890;
  stable let region : Region = Prim.regionNew();

  public func bump() : async Nat {
    record.hits += 1;
    counts[0] += 10;
    ignore Prim.regionGrow(region, 1);
    Prim.regionStoreNat64(region, 0, 0xfeed);
    record.hits
  };
};
