//! The sync engine's decision core. [`plan`] is a pure function from three trees (what
//! the server has, what the disk has, what both last agreed on) to operations; the
//! engine around it (scanner, local state, executor) persists observations and derives
//! the work anew each time, so a crash never leaves half-planned work behind.

pub mod plan;
pub mod remote;
pub mod scan;
pub mod state;

pub use plan::{Entry, Kind, Op, Trees, conflict_copy_name, plan};
pub use remote::{RemoteNode, RemoteTree};
