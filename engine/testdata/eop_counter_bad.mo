// eop_counter.mo's upgrade that changes count's type from Nat to Text:
// incompatible, so the runtime refuses the upgrade
// ("Memory-incompatible program upgrade") and the IC rolls it back.
persistent actor {
  var count : Text = "";
  var upgrades : Nat = 0;

  public func inc(n : Nat) : async Nat {
    count #= "+";
    n
  };

  public query func get() : async (Nat, Nat) {
    (0, upgrades)
  };

  system func preupgrade() {
    upgrades += 1;
  };
};
