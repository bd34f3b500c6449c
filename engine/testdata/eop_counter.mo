// Enhanced orthogonal persistence (moc 0.15+ default): every `let`/`var`
// of a persistent actor is stable; the heap itself survives the upgrade.
persistent actor {
  var count : Nat = 0;
  var upgrades : Nat = 0;

  public func inc(n : Nat) : async Nat {
    count += n;
    count
  };

  public query func get() : async (Nat, Nat) {
    (count, upgrades)
  };

  system func preupgrade() {
    upgrades += 1;
  };
};
