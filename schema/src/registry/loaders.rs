//! Batch loading of the registry objects nested fields point at (no N+1).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entities::{house, person, premises};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::AppError;
use crate::registry::Registry;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct HouseId(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PremisesId(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PersonId(pub Uuid);

pub struct RegistryLoader(pub Registry);

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
