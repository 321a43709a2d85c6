//! directoryName: distinguished names compared attribute by attribute.

use der::{Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// One relative distinguished name as comparable keys: (attribute type, normalised
/// value), sorted, since an RDN is a set.
type Rdn = Vec<(String, String)>;

/// A distinguished name in comparable form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Comparable(Vec<Rdn>);

/// `name` in comparable form, or `None` when one of its values cannot be compared.
///
/// <https://www.rfc-editor.org/rfc/rfc5280#section-7.1>: names are compared with the
/// RFC 4518 string preparation (caseIgnoreMatch for the DirectoryString attributes):
/// values are decoded from their string type, insignificant spaces dropped and case
/// folded, so `CN=Foo` (PrintableString) and `CN=foo` (UTF8String) are the same name.
/// A value that is not a string certgate can decode (TeletexString, an unknown type)
/// could hide a match, so a name holding one is refused under a directoryName
/// constraint rather than compared byte for byte.
pub(crate) fn comparable(name: &Name) -> Option<Comparable> {
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut atvs: Rdn = rdn.iter().map(attribute).collect::<Option<_>>()?;
        atvs.sort();
        rdns.push(atvs);
    }
    Some(Comparable(rdns))
}

fn attribute(atv: &AttributeTypeAndValue) -> Option<(String, String)> {
    let bytes = atv.value.value();
    let text = match atv.value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => core::str::from_utf8(bytes).ok()?.to_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| match c {
                    [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            String::from_utf16(&units).ok()?
        }
        _ => return None,
    };
    Some((atv.oid.to_string(), prepare(&text)))
}

/// RFC 4518 caseIgnoreMatch, reduced to what matters for comparison: case folded,
/// leading and trailing spaces dropped, inner runs of spaces made one
/// (<https://www.rfc-editor.org/rfc/rfc4518#section-2>).
fn prepare(text: &str) -> String {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `name` is within the subtree `constraint`: the constraint's RDNs are the
/// first RDNs of the name (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>:
/// "a name is within the subtree if its first RDNs match the constraint").
pub(crate) fn within(constraint: &Comparable, name: &Comparable) -> bool {
    constraint.0.len() <= name.0.len() && constraint.0.iter().zip(&name.0).all(|(c, n)| c == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Comparable {
        comparable(&text.parse::<Name>().expect("name")).expect("comparable")
    }

    #[test]
    fn constraint_rdns_are_a_prefix_of_the_name() {
        assert!(within(&name("O=certgate"), &name("CN=dev,O=certgate")));
        assert!(within(&name("O=Certgate "), &name("CN=dev,O=certgate")));
        assert!(!within(&name("O=other"), &name("CN=dev,O=certgate")));
        assert!(!within(&name("CN=dev,O=certgate"), &name("O=certgate")));
    }
}
