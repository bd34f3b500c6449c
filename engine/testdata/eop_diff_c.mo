// eop_diff_a with a field added to the record r: the runtime refuses
// (a record keeps its fields).
persistent actor {
  var c : Char = 'c';
  var n : Nat = 1;
  var r : { a : Nat; b : Nat } = { a = 1; b = 2 };
  var v : { #x } = #x;

  public query func get() : async Nat { n + r.a + r.b };
};
