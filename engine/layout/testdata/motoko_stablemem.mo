// motoko_stablemem: stable variables next to ExperimentalStableMemory
// use, so pre_upgrade writes the version 1 layout: the canister's own
// pages first, the variables after them, a trailer in the last page.
import Prim "mo:prim";

actor {
  stable var n : Nat = 5;
  stable var t : Text = "plain";

  public func touch() : async () {
    ignore Prim.stableMemoryGrow(1);
    Prim.stableMemoryStoreNat32(0, 0xabcd);
  };
};
