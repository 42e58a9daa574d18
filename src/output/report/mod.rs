//! Report renderers: the same [`Summary`](crate::attribute::Summary) as JSON or as a table.

pub mod json;
pub mod rows_table;
pub mod table;
