//! Distinguished names as RFC 4514 strings plus their individual attributes.

use core::fmt::Write as _;

use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// One attribute of a distinguished name, in certificate order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAttribute {
    /// Short name from <https://www.rfc-editor.org/rfc/rfc4514#section-3> (`CN`, `O`, …) or the dotted OID.
    pub name: String,
    /// Dotted OID of the attribute type.
    pub oid: String,
    /// The value as text; `#` followed by hex DER when it is not a string.
    pub value: String,
}

/// A distinguished name as RFC 4514 text (last RDN first) and as attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName {
    /// RFC 4514 string form.
    pub rfc4514: String,
    /// Attributes in the order they appear in the certificate.
    pub attributes: Vec<NameAttribute>,
}

fn short_name(oid: &str) -> Option<&'static str> {
    // <https://www.rfc-editor.org/rfc/rfc4514#section-3>'s table, plus the two attributes AWS examples show.
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

fn attribute(atv: &AttributeTypeAndValue<'_>) -> (NameAttribute, String) {
    let oid = atv.attr_type().to_id_string();
    let name = short_name(&oid).map_or_else(|| oid.clone(), String::from);
    match atv.as_str() {
        Ok(text) => {
            let escaped = escape(text);
            (
                NameAttribute {
                    name,
                    oid,
                    value: text.to_owned(),
                },
                escaped,
            )
        }
        Err(_) => {
            // <https://www.rfc-editor.org/rfc/rfc4514#section-2.4>: non-string values are written as '#' + hex of their BER.
            let mut hex = String::from("#");
            for b in atv.attr_value().as_bytes() {
                let _ = write!(hex, "{b:02x}");
            }
            (
                NameAttribute {
                    name,
                    oid,
                    value: hex.clone(),
                },
                hex,
            )
        }
    }
}

/// Escape per <https://www.rfc-editor.org/rfc/rfc4514#section-2.4>.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
        } else {
            if special {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

impl DistinguishedName {
    pub(crate) fn of(name: &X509Name<'_>) -> Self {
        let mut attributes = Vec::new();
        let mut rdns = Vec::new();
        for rdn in name.iter() {
            let mut parts = Vec::new();
            for atv in rdn.iter() {
                let (attr, escaped) = attribute(atv);
                parts.push(format!("{}={escaped}", attr.name));
                attributes.push(attr);
            }
            rdns.push(parts.join("+"));
        }
        rdns.reverse();
        Self {
            rfc4514: rdns.join(","),
            attributes,
        }
    }

    /// The first common name, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.oid == "2.5.4.3")
            .map(|a| a.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn rfc4514_specials_are_escaped() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape(" #x "), "\\ #x\\ ");
        assert_eq!(escape("#x"), "\\#x");
    }
}
