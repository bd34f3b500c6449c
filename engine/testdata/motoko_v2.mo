// motoko_v2: motoko_v1.mo plus one stable field (`note`), an
// upgrade-compatible change: the v1 variables keep their values, the new
// one starts at its initialiser. `get` still returns the v1 tuple so the
// same query checks v1 and v2; `getV2` adds the new field.
import Prim "mo:prim";

actor {
  stable var count : Nat = 0;
  stable var title : Text = "v1";
  stable var history : [Nat] = [];
  stable var upgrades : Nat = 0;
  stable var note : Text = "added in v2";

  var lastEvent : Text = "installed";

  public func add(n : Nat, newTitle : Text) : async Nat {
    count += n;
    title := newTitle;
    history := Prim.Array_tabulate<Nat>(history.size() + 1, func(i : Nat) : Nat {
      if (i < history.size()) history[i] else n
    });
    lastEvent := "add";
    count
  };

  public func setNote(t : Text) : async () {
    note := t;
  };

  public query func get() : async (Nat, Text, [Nat], Nat) {
    (count, title, history, upgrades)
  };

  public query func getV2() : async (Nat, Text, [Nat], Nat, Text) {
    (count, title, history, upgrades, note)
  };

  public query func event() : async Text {
    lastEvent
  };

  system func preupgrade() {
    upgrades += 1;
    Prim.debugPrint("motoko_v2 preupgrade: count=" # debug_show count);
  };

  system func postupgrade() {
    lastEvent := "upgraded to v2";
    Prim.debugPrint("motoko_v2 postupgrade: upgrades=" # debug_show upgrades);
  };
};
