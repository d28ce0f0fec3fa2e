//! GraphQL enums of the registry.

use crate::mirror_enum;
use crate::registry::service::Direction;

mirror_enum!(
    /// Whether a house is served.
    HouseStatus => entities::HouseStatus { Active, Archived }
);
mirror_enum!(
    /// What premises are used for.
    PremisesKind => entities::PremisesKind { Residential, NonResidential, Parking, Storage }
);
mirror_enum!(
    /// Active, or archived and kept for history.
    RecordStatus => entities::RecordStatus { Active, Archived }
);
mirror_enum!(
    /// How a person prefers to be told things.
    Channel => entities::Channel { Email, Sms, Viber, Post, None }
);
mirror_enum!(
    /// Owner (with a share) or tenant.
    OccupancyRole => entities::OccupancyRole { Owner, Tenant }
);
mirror_enum!(
    /// What a meter measures.
    Resource => entities::Resource { ColdWater, HotWater, Electricity, Heat, Gas }
);
mirror_enum!(
    /// Whether a meter is in service.
    MeterStatus => entities::MeterStatus { Active, Archived, Failed }
);
mirror_enum!(
    /// Kinds of objects the search finds.
    SearchKind => entities::SearchKind { Account, Person, Premises, Meter, House }
);

#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl From<SortDirection> for Direction {
    fn from(d: SortDirection) -> Self {
        match d {
            SortDirection::Asc => Direction::Asc,
            SortDirection::Desc => Direction::Desc,
        }
    }
}
