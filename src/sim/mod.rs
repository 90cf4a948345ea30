//! The vendor simulator.
