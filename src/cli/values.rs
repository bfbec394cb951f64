//! Value parsers whose refusals read as words, not as Rust: clap's own say `0 is not in
//! 1..=1000000`, `invalid digit found in string`, or that no value was supplied for an empty name
//! in a list (`--protocol ,naive`).

use crate::cli::output::thousands;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Command, ValueEnum};
use std::ffi::OsStr;
use std::marker::PhantomData;

/// A parser of a whole number from `min` to `max` (either may be the type's own bound), which
/// refuses anything else by saying what it takes.
pub fn whole<T: TryFrom<u64>>(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |text| {
        let expected = || {
            format!(
                "expected a whole number from {} to {}",
                thousands(min),
                thousands(max)
            )
        };
        let value: u64 = text.trim().parse().map_err(|_| expected())?;
        if !(min..=max).contains(&value) {
            return Err(expected());
        }
        T::try_from(value).map_err(|_| expected())
    }
}

/// A parser of one name in a comma-separated list of `E`'s values, which says so when a name is
/// empty (two commas in a row, or one at an end) and lists the names otherwise, as clap does.
#[derive(Clone)]
pub struct ListItem<E>(PhantomData<E>);

impl<E> ListItem<E> {
    /// The parser.
    pub fn new() -> ListItem<E> {
        ListItem(PhantomData)
    }
}

impl<E: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for ListItem<E> {
    type Value = E;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<E, clap::Error> {
        if value.is_empty() {
            let flag = arg.and_then(Arg::get_long).unwrap_or("the list");
            let message = format!(
                "--{flag} has an empty name: give one or more names separated by single commas\n"
            );
            return Err(clap::Error::raw(ErrorKind::InvalidValue, message).with_cmd(cmd));
        }
        clap::builder::EnumValueParser::<E>::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            E::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_refused_in_words() {
        let cases = whole::<u32>(1, 1_000_000);
        assert_eq!(cases("64"), Ok(64));
        let refused = Err("expected a whole number from 1 to 1,000,000".to_string());
        for text in ["0", "1000001", "x", "-1", "1.5", "99999999999999999999999"] {
            assert_eq!(cases(text), refused, "{text}");
        }
    }
}
