// motoko_v1: an actor whose state lives in stable variables (classical
// persistence: serialised to stable memory in pre_upgrade, read back after
// the new module starts). Upgraded to motoko_v2.mo, which adds a field.
import Prim "mo:prim";

actor {
  stable var count : Nat = 0;
  stable var title : Text = "v1";
  stable var history : [Nat] = [];
  stable var upgrades : Nat = 0;

  // Non-stable state: lost on upgrade, rebuilt by postupgrade.
  var lastEvent : Text = "installed";

  // add appends n to history, adds it to count and sets the title.
  public func add(n : Nat, newTitle : Text) : async Nat {
    count += n;
    title := newTitle;
    history := Prim.Array_tabulate<Nat>(history.size() + 1, func(i : Nat) : Nat {
      if (i < history.size()) history[i] else n
    });
    lastEvent := "add";
    count
  };

  public query func get() : async (Nat, Text, [Nat], Nat) {
    (count, title, history, upgrades)
  };

  public query func event() : async Text {
    lastEvent
  };

  system func preupgrade() {
    upgrades += 1;
    Prim.debugPrint("motoko_v1 preupgrade: count=" # debug_show count);
  };

  system func postupgrade() {
    lastEvent := "upgraded to v1";
    Prim.debugPrint("motoko_v1 postupgrade: upgrades=" # debug_show upgrades);
  };
};
