// eop_counter.mo's upgrade that adds a stable field: compatible, so an
// upgrade with wasm_memory_persistence = keep retains count and upgrades.
persistent actor {
  var count : Nat = 0;
  var upgrades : Nat = 0;
  var note : Text = "added in v2";

  public func inc(n : Nat) : async Nat {
    count += n;
    count
  };

  public query func get() : async (Nat, Nat) {
    (count, upgrades)
  };

  public query func getNote() : async Text {
    note
  };

  system func preupgrade() {
    upgrades += 1;
  };
};
