// eop_diff_a widened: Nat to Int, Char to Nat32 (laid out alike), a variant
// gains a case. The runtime accepts; moc --stable-compatible refuses Char
// to Nat32.
persistent actor {
  var c : Nat32 = 0;
  var n : Int = 0;
  var r : { a : Nat } = { a = 0 };
  var v : { #x; #y } = #y;

  public query func get() : async Int { n + r.a };
};
