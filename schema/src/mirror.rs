//! GraphQL enums mirroring the entity enums, which carry no GraphQL derives.

/// Declares a GraphQL enum with the same variants as an entity enum, and the
/// conversions both ways.
#[macro_export]
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $entity:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl From<$name> for $entity {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => <$entity>::$variant),+
                }
            }
        }

        impl From<$entity> for $name {
            fn from(v: $entity) -> Self {
                match v {
                    $(<$entity>::$variant => $name::$variant),+
                }
            }
        }
    };
}
