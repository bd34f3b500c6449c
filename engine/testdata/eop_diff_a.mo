// Differential fixture for engine/motoko's port of the runtime's upgrade
// check: the old version of eop_diff_b/_c/_drop (see README).
persistent actor {
  var c : Char = 'c';
  var n : Nat = 1;
  var r : { a : Nat } = { a = 1 };
  var v : { #x } = #x;

  public query func get() : async Nat { n + r.a };
};
