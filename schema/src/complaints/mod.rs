//! Complaints (issue 7, first part): the pure cores — classification by the
//! organisation's rules (`classify`), the enforced workflow (`workflow`),
//! routing to the least busy eligible person (`routing`) and deadlines
//! (`sla`). The tables, the service, GraphQL, files, paid services, tasks
//! and the screens come next.

pub mod classify;
pub mod overdue;
pub mod routing;
pub mod service;
pub mod setup;
pub mod setup_types;
pub mod sla;
pub mod types;
pub mod visibility;
pub mod workflow;
