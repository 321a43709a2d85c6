//! RFC 5280 section 6 path validation at a caller-given time against caller-given
//! anchors. Anchors are registered CA certificates and need not be self-signed: AWS IoT's
//! rule is that the *immediate* issuer of a device certificate is the registered CA
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html>), so
//! an anchor may well be an intermediate. Because anchors are full certificates
//! registered as CAs, their validity, basicConstraints, keyUsage, pathLen and name
//! constraints are enforced too; rules about how a CA issued a certificate (serial
//! number, policyConstraints criticality) apply to the leaf and intermediates only.
//! `docs/path-validation.md` tables each rule per position.
//!
//! rustls-webpki was considered for path building. It has no DSA (one of AWS IoT's seven
//! algorithms), and it selects verification algorithms by the exact bytes of the SPKI
//! AlgorithmIdentifier, which for DSA carry per-key domain parameters, so no DSA
//! verifier could be plugged in. The search here follows webpki's shape instead:
//! bounded depth, a signature budget, and certificates parsed once per call.

use crate::algorithm::{KeyInfo, SignatureAlgorithm};
use crate::certificate::{hex, Certificate};
use crate::error::{Error, ErrorCode};
use crate::limits::Limits;
use crate::name_constraints;
use crate::rules::{
    check_critical_extensions, check_eku, check_issued, check_issuer, is_self_issued,
};
use crate::signature::{self, SignatureVerifier};

/// Which extendedKeyUsage the leaf must allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EkuPolicy {
    /// An EKU extension, when present on the leaf, must include clientAuth (or
    /// anyExtendedKeyUsage). Absent EKU allows every purpose (RFC 5280 4.2.1.12).
    ClientAuth,
    /// Like `ClientAuth` for serverAuth; used by the x509-limbo conformance run.
    ServerAuth,
    /// Any EKU is accepted.
    Any,
}

impl EkuPolicy {
    /// Parse the binding-level names `client` and `any`.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name {
            "client" => Ok(Self::ClientAuth),
            "any" => Ok(Self::Any),
            other => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("EKU policy {other:?} is not client or any"),
            )),
        }
    }
}

/// The certificates and parameters of one validation.
#[derive(Clone, Copy, Debug)]
pub struct ChainInput<'a> {
    /// The end-entity certificate, DER.
    pub leaf: &'a [u8],
    /// Untrusted certificates that may complete the path, DER, any order.
    pub intermediates: &'a [Vec<u8>],
    /// Trusted (registered) CA certificates, DER.
    pub anchors: &'a [Vec<u8>],
    /// Validation time, seconds since the Unix epoch.
    pub at: i64,
    /// EKU requirement on the leaf.
    pub eku: EkuPolicy,
}

/// A successfully validated path. Only [`verify_chain`] builds one, so holding one
/// means the path was validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChain {
    leaf_certificate_id: String,
    anchor_certificate_id: String,
    path: Vec<String>,
    serials: Vec<String>,
    not_after: i64,
}

impl VerifiedChain {
    /// certificateId of the leaf.
    pub fn leaf_certificate_id(&self) -> &str {
        &self.leaf_certificate_id
    }

    /// certificateId of the anchor the path ends at.
    pub fn anchor_certificate_id(&self) -> &str {
        &self.anchor_certificate_id
    }

    /// certificateIds from the leaf to the anchor, both included.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// Serial numbers along [`Self::path`] (same order; lowercase hex of the INTEGER's
    /// content octets, as `inspect` spells them): what a CRL lookup of each link needs
    /// (RFC 5280 5.3, <https://www.rfc-editor.org/rfc/rfc5280#section-5.1.2.6>), so a
    /// caller does not parse the leaf a second time to get its serial.
    pub fn serials(&self) -> &[String] {
        &self.serials
    }

    /// Earliest notAfter on the path: the verdict may be cached until then.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }
}

struct Search<'c, 'a> {
    verifier: &'c dyn SignatureVerifier,
    anchors: &'c [Certificate<'a>],
    intermediates: &'c [Certificate<'a>],
    at: i64,
    limits: &'c Limits,
    signature_checks: usize,
    /// Name constraint comparisons left.
    name_comparisons: usize,
}

/// A node on the path under construction: the anchor flag tells which list it is from.
type Step = (bool, usize);

impl<'c, 'a> Search<'c, 'a> {
    fn cert(&self, step: Step) -> Option<&'c Certificate<'a>> {
        let (anchors, intermediates): (&'c [Certificate<'a>], &'c [Certificate<'a>]) =
            (self.anchors, self.intermediates);
        if step.0 {
            anchors.get(step.1)
        } else {
            intermediates.get(step.1)
        }
    }

    /// Extend `path` (leaf first) until it reaches an anchor. Returns the anchor step.
    fn extend(&mut self, leaf: &Certificate<'a>, path: &mut Vec<Step>) -> Result<Step, Error> {
        let child = match path.last() {
            Some(step) => self
                .cert(*step)
                .ok_or_else(|| Error::new(ErrorCode::UnknownIssuer, "lost path"))?,
            None => leaf,
        };
        // Self-issued certificates (key rollover) do not count towards the depth, as
        // they do not count towards pathLenConstraint (RFC 5280 6.1.4 (l)).
        let depth = path
            .iter()
            .filter_map(|s| self.cert(*s))
            .filter(|c| !is_self_issued(c))
            .count();
        if depth > self.limits.max_path_depth {
            return Err(Error::new(
                ErrorCode::PathLengthExceeded,
                "path is deeper than the depth limit",
            ));
        }
        let wanted = child.x509.issuer().as_raw();
        if child.x509.issuer().iter_attributes().next().is_none() {
            // An empty issuer name can match nothing (RFC 5280 4.1.2.4: it MUST be non-empty).
            return Err(Error::new(
                ErrorCode::UnknownIssuer,
                format!("certificate {} has an empty issuer name", child.id()),
            ));
        }
        let candidates: Vec<Step> = (0..self.anchors.len())
            .map(|i| (true, i))
            .chain((0..self.intermediates.len()).map(|i| (false, i)))
            .filter(|s| {
                self.cert(*s)
                    .is_some_and(|c| c.x509.subject().as_raw() == wanted && c.der != child.der)
            })
            .filter(|s| !path.contains(s))
            .collect();
        let mut best: Option<Error> = None;
        // A failure further up the path says more than "unknown issuer" here.
        let note = |best: &mut Option<Error>, e: Error| {
            if best
                .as_ref()
                .is_none_or(|b| b.code() == ErrorCode::UnknownIssuer)
            {
                *best = Some(e);
            }
        };
        for step in candidates {
            let Some(issuer) = self.cert(step) else {
                continue;
            };
            if let Err(e) = self.check_candidate(leaf, issuer, step.0, path) {
                if e.code() == ErrorCode::PathBudgetExceeded {
                    return Err(e);
                }
                note(&mut best, e);
                continue;
            }
            if step.0 {
                match self.check_signature(child, issuer) {
                    Ok(()) => return Ok(step),
                    Err(e) if e.code() == ErrorCode::PathBudgetExceeded => return Err(e),
                    Err(e) => {
                        note(&mut best, e);
                        continue;
                    }
                }
            }
            // Top down: the issuer's own path to an anchor is validated before the
            // child's signature by the issuer is checked. A forged intermediate then
            // fails at its first signature check, made with a registered CA's key, so
            // an attacker cannot make certgate spend time on key types they choose
            // (a DSA-2048 check costs milliseconds natively, bench/README.md).
            let mark = path.len();
            path.push(step);
            let result = self
                .extend(leaf, path)
                .and_then(|anchor| self.check_signature(child, issuer).map(|()| anchor));
            match result {
                Ok(anchor) => return Ok(anchor),
                Err(e) if e.code() == ErrorCode::PathBudgetExceeded => return Err(e),
                Err(e) => {
                    path.truncate(mark);
                    note(&mut best, e);
                }
            }
        }
        Err(best.unwrap_or_else(|| {
            Error::new(
                ErrorCode::UnknownIssuer,
                format!("no given anchor or intermediate issued {}", child.id()),
            )
        }))
    }

    /// Constraints an issuer must meet before any signature is checked: validity,
    /// CA flag, pathLen, keyUsage, critical extensions, the rules for issued
    /// certificates unless it is an anchor, and its name constraints (well formed) over
    /// every certificate below it.
    fn check_candidate(
        &mut self,
        leaf: &Certificate<'a>,
        issuer: &Certificate<'a>,
        is_anchor: bool,
        path: &[Step],
    ) -> Result<(), Error> {
        // Non-self-issued intermediates already between the leaf and this issuer.
        let sub_cas = path
            .iter()
            .filter_map(|s| self.cert(*s))
            .filter(|c| !is_self_issued(c))
            .count();
        check_issuer(issuer, self.at, sub_cas)?;
        if !is_anchor {
            check_issued(issuer)?;
        }
        if let Some(nc) = name_constraints::of(issuer)? {
            name_constraints::check(&nc, leaf, &mut self.name_comparisons)?;
            // Self-issued intermediates are exempt (RFC 5280 6.1.4 (b) ordering).
            let below: Vec<&Certificate<'a>> = path
                .iter()
                .filter_map(|s| self.cert(*s))
                .filter(|c| !is_self_issued(c))
                .collect();
            for cert in below {
                name_constraints::check(&nc, cert, &mut self.name_comparisons)?;
            }
        }
        Ok(())
    }

    /// Check `child`'s signature with `issuer`'s key, within the signature budget.
    fn check_signature(
        &mut self,
        child: &Certificate<'a>,
        issuer: &Certificate<'a>,
    ) -> Result<(), Error> {
        if self.signature_checks >= self.limits.max_signature_checks {
            return Err(Error::new(
                ErrorCode::PathBudgetExceeded,
                "too many signature checks for one path search",
            ));
        }
        self.signature_checks = self.signature_checks.saturating_add(1);
        let algorithm = SignatureAlgorithm::from_identifier(&child.x509.signature_algorithm)?;
        signature::check(
            self.verifier,
            algorithm,
            issuer.x509.public_key(),
            child.x509.tbs_certificate.as_ref(),
            child.x509.signature_value.data.as_ref(),
        )
    }
}

fn parse_all<'a>(ders: &'a [Vec<u8>], limits: &Limits) -> Result<Vec<Certificate<'a>>, Error> {
    ders.iter().map(|d| Certificate::parse(d, limits)).collect()
}

/// Validate `input.leaf` up to one of `input.anchors` at `input.at`.
pub fn verify_chain(
    verifier: &dyn SignatureVerifier,
    input: &ChainInput<'_>,
    limits: &Limits,
) -> Result<VerifiedChain, Error> {
    if input.intermediates.len().saturating_add(1) > limits.max_chain_certificates {
        return Err(Error::new(
            ErrorCode::TooManyCertificates,
            format!(
                "{} intermediates given; the limit is {}",
                input.intermediates.len(),
                limits.max_chain_certificates
            ),
        ));
    }
    if input.anchors.len() > limits.max_anchors {
        return Err(Error::new(
            ErrorCode::TooManyCertificates,
            format!(
                "{} anchors given; the limit is {}",
                input.anchors.len(),
                limits.max_anchors
            ),
        ));
    }
    let leaf = Certificate::parse(input.leaf, limits)?;
    let intermediates = parse_all(input.intermediates, limits)?;
    let anchors = parse_all(input.anchors, limits)?;
    leaf.check_validity(input.at)?;
    check_critical_extensions(&leaf)?;
    check_issued(&leaf)?;
    KeyInfo::of(leaf.x509.public_key())?.check_policy()?;
    check_eku(&leaf, input.eku)?;
    let mut search = Search {
        verifier,
        anchors: &anchors,
        intermediates: &intermediates,
        at: input.at,
        limits,
        signature_checks: 0,
        name_comparisons: limits.max_name_constraint_comparisons,
    };
    let mut path = Vec::new();
    let anchor = search.extend(&leaf, &mut path)?;
    path.push(anchor);
    // Each id is a SHA-256 of a whole certificate: computed once per certificate.
    let leaf_certificate_id = leaf.id();
    let mut ids = vec![leaf_certificate_id.clone()];
    let mut serials = vec![hex(leaf.x509.raw_serial())];
    let mut not_after = leaf.not_after();
    for cert in path.iter().filter_map(|s| search.cert(*s)) {
        ids.push(cert.id());
        serials.push(hex(cert.x509.raw_serial()));
        not_after = not_after.min(cert.not_after());
    }
    // The anchor is the path's last step.
    let anchor_certificate_id = if search.cert(anchor).is_some() {
        ids.last().cloned().unwrap_or_default()
    } else {
        String::new()
    };
    Ok(VerifiedChain {
        leaf_certificate_id,
        anchor_certificate_id,
        path: ids,
        serials,
        not_after,
    })
}
