//! Batch loading of the registry objects nested fields point at (no N+1).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entities::{account, house, meter, occupancy, person, premises};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::AppError;
use crate::registry::Registry;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HouseId(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PremisesId(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PersonId(pub Uuid);

/// The accounts of a premises, by number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AccountsOfPremises(pub Uuid);
/// The meters of a premises, by serial.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MetersOfPremises(pub Uuid);
/// The occupancies of a premises, oldest first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct OccupanciesOfPremises(pub Uuid);

pub struct RegistryLoader(pub Registry);

/// Rows in their query order, grouped under the premises they belong to; every
/// key gets a list, empty when the premises has none.
fn group<K: Copy + Eq + std::hash::Hash, M>(
    keys: &[K],
    rows: Vec<M>,
    key_of: impl Fn(&M) -> Option<K>,
) -> HashMap<K, Vec<M>> {
    let mut out: HashMap<K, Vec<M>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(list) = key_of(&row).and_then(|k| out.get_mut(&k)) {
            list.push(row);
        }
    }
    out
}

impl Loader<AccountsOfPremises> for RegistryLoader {
    type Value = Vec<account::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AccountsOfPremises],
    ) -> Result<HashMap<AccountsOfPremises, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = account::Entity::find()
            .filter(account::Column::PremisesId.is_in(ids))
            .order_by_asc(account::Column::Number)
            .order_by_asc(account::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(group(keys, rows, |a| {
            Some(AccountsOfPremises(a.premises_id))
        }))
    }
}

impl Loader<MetersOfPremises> for RegistryLoader {
    type Value = Vec<meter::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[MetersOfPremises],
    ) -> Result<HashMap<MetersOfPremises, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = meter::Entity::find()
            .filter(meter::Column::PremisesId.is_in(ids))
            .order_by_asc(meter::Column::Serial)
            .order_by_asc(meter::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(group(keys, rows, |m| m.premises_id.map(MetersOfPremises)))
    }
}

impl Loader<OccupanciesOfPremises> for RegistryLoader {
    type Value = Vec<occupancy::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[OccupanciesOfPremises],
    ) -> Result<HashMap<OccupanciesOfPremises, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = occupancy::Entity::find()
            .filter(occupancy::Column::PremisesId.is_in(ids))
            .order_by_asc(occupancy::Column::CreatedAt)
            .order_by_asc(occupancy::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(group(keys, rows, |o| {
            Some(OccupanciesOfPremises(o.premises_id))
        }))
    }
}

fn err(e: sea_orm::DbErr) -> async_graphql::Error {
    AppError::from(e).into()
}

impl Loader<HouseId> for RegistryLoader {
    type Value = house::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[HouseId]) -> Result<HashMap<HouseId, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = house::Entity::find()
            .filter(house::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (HouseId(m.id), m)).collect())
    }
}

impl Loader<PremisesId> for RegistryLoader {
    type Value = premises::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[PremisesId],
    ) -> Result<HashMap<PremisesId, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = premises::Entity::find()
            .filter(premises::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (PremisesId(m.id), m)).collect())
    }
}

impl Loader<PersonId> for RegistryLoader {
    type Value = person::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PersonId]) -> Result<HashMap<PersonId, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (PersonId(m.id), m)).collect())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AccountId(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MeterId(pub Uuid);

impl Loader<AccountId> for RegistryLoader {
    type Value = entities::account::Model;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AccountId],
    ) -> Result<HashMap<AccountId, Self::Value>, Self::Error> {
        use entities::account;
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (AccountId(m.id), m)).collect())
    }
}

impl Loader<MeterId> for RegistryLoader {
    type Value = entities::meter::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[MeterId]) -> Result<HashMap<MeterId, Self::Value>, Self::Error> {
        use entities::meter;
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = meter::Entity::find()
            .filter(meter::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows.into_iter().map(|m| (MeterId(m.id), m)).collect())
    }
}

/// An account by id through the request's loader (batched with the others a
/// list asks for), checked like `account(id)`.
pub async fn visible_account(
    ctx: &async_graphql::Context<'_>,
    id: Uuid,
) -> async_graphql::Result<crate::registry::types::Account> {
    let loader = ctx.data::<async_graphql::dataloader::DataLoader<RegistryLoader>>()?;
    let account = loader
        .load_one(AccountId(id))
        .await?
        .ok_or(AppError::not_found("account"))?;
    crate::auth::principal(ctx)?.check(
        "Query.account",
        crate::auth::Target::Account {
            org: account.organisation_id,
            house: account.house_id,
            id: account.id,
        },
    )?;
    Ok(crate::registry::types::Account(account))
}

/// A user's name as staff see it (complaint assignees).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct UserName(pub Uuid);
/// A complaint's history, oldest first (the resolver keeps what the caller may read).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HistoryOf(pub Uuid);
/// The files of an object already shown to the caller: (`complaint` | `reading`, id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FilesOf(pub &'static str, pub Uuid);

impl Loader<UserName> for RegistryLoader {
    type Value = String;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserName]) -> Result<HashMap<UserName, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = entities::user::Entity::find()
            .filter(entities::user::Column::Id.is_in(ids))
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|u| (UserName(u.id), u.display_name))
            .collect())
    }
}

impl Loader<HistoryOf> for RegistryLoader {
    type Value = Vec<entities::complaint_history::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[HistoryOf],
    ) -> Result<HashMap<HistoryOf, Self::Value>, Self::Error> {
        use entities::complaint_history as h;
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = h::Entity::find()
            .filter(h::Column::ComplaintId.is_in(ids))
            .order_by_asc(h::Column::CreatedAt)
            .order_by_asc(h::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(err)?;
        Ok(group(keys, rows, |r| Some(HistoryOf(r.complaint_id))))
    }
}

impl Loader<FilesOf> for RegistryLoader {
    type Value = Vec<entities::attachment::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FilesOf]) -> Result<HashMap<FilesOf, Self::Value>, Self::Error> {
        use entities::attachment as a;
        let mut out: HashMap<FilesOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for kind in ["complaint", "reading"] {
            let ids: Vec<Uuid> = keys.iter().filter(|k| k.0 == kind).map(|k| k.1).collect();
            if ids.is_empty() {
                continue;
            }
            let rows = a::Entity::find()
                .filter(a::Column::OwnerType.eq(kind))
                .filter(a::Column::OwnerId.is_in(ids))
                .order_by_asc(a::Column::CreatedAt)
                .order_by_asc(a::Column::Id)
                .all(&self.0.db)
                .await
                .map_err(err)?;
            for r in rows {
                if let Some(list) = out.get_mut(&FilesOf(kind, r.owner_id)) {
                    list.push(r);
                }
            }
        }
        Ok(out)
    }
}
