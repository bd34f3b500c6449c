// eop_diff_a's variables all dropped for one whose field hash (a: 97) is
// below all of theirs (c: 99): the runtime's main-actor loop accepts this
// (motoko-rts idl.rs returns true when the new fields run out first);
// moc --stable-compatible refuses each dropped variable (M0169).
persistent actor {
  var a : Nat = 5;

  public query func get() : async Nat { a };
};
