//! Files (issue 7): attachments of complaints, readings, accounts and
//! people — sniffed and cleaned (`content`), stored on the local disk or in
//! an S3-compatible store (`store`), served by the owner's rights (`service`).

pub mod content;
pub mod service;
pub mod store;
pub mod types;
