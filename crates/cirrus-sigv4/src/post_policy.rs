//! POST
