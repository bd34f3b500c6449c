// An EOP counter whose preupgrade traps: every upgrade away from it fails
// in canister_pre_upgrade and the canister keeps its state.
import Prim "mo:⛔";

persistent actor {
  var count : Nat = 0;

  public func inc(n : Nat) : async Nat {
    count += n;
    count
  };

  public query func get() : async Nat {
    count
  };

  system func preupgrade() {
    Prim.trap("eop_trap: preupgrade refuses the upgrade");
  };
};
