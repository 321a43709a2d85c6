//! <https://www.rfc-editor.org/rfc/rfc5280#section-6> path validation at a caller-given time against caller-given
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
    /// anyExtendedKeyUsage). Absent EKU allows every purpose
    /// (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12>).
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

/// A certificate on the path under construction, named by the list it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    /// `anchors[i]`: a registered CA; a path ends at one.
    Anchor(usize),
    /// `intermediates[i]`: an untrusted certificate a path may pass through.
    Intermediate(usize),
}

/// The anchor a completed path ends at, as an index into the anchors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReachedAnchor(usize);

impl<'c, 'a> Search<'c, 'a> {
    fn cert(&self, node: Node) -> Option<&'c Certificate<'a>> {
        let (anchors, intermediates): (&'c [Certificate<'a>], &'c [Certificate<'a>]) =
            (self.anchors, self.intermediates);
        match node {
            Node::Anchor(i) => anchors.get(i),
            Node::Intermediate(i) => intermediates.get(i),
        }
    }

    /// The certificates of `path`, leaf side first.
    fn certs<'p>(&self, path: &'p [Node]) -> impl Iterator<Item = &'c Certificate<'a>> + 'p
    where
        'c: 'p,
    {
        let (anchors, intermediates) = (self.anchors, self.intermediates);
        path.iter().filter_map(move |node| match *node {
            Node::Anchor(i) => anchors.get(i),
            Node::Intermediate(i) => intermediates.get(i),
        })
    }

    /// Every anchor, then every intermediate, that could have issued `child` and is not
    /// on `path` yet.
    fn candidates(&self, child: &Certificate<'a>, path: &[Node]) -> Vec<Node> {
        (0..self.anchors.len())
            .map(Node::Anchor)
            .chain((0..self.intermediates.len()).map(Node::Intermediate))
            .filter(|node| !path.contains(node))
            .filter(|node| self.cert(*node).is_some_and(|c| names_chain(child, c)))
            .collect()
    }

    /// Extend `path` (leaf first, leaf excluded) until it reaches an anchor.
    fn extend(
        &mut self,
        leaf: &Certificate<'a>,
        path: &mut Vec<Node>,
    ) -> Result<ReachedAnchor, Error> {
        let child = match path.last() {
            Some(node) => self
                .cert(*node)
                .ok_or_else(|| Error::new(ErrorCode::UnknownIssuer, "lost path"))?,
            None => leaf,
        };
        check_depth(counted_depth(self.certs(path)), self.limits)?;
        check_issuer_name_present(child)?;
        let mut best: Option<Error> = None;
        for node in self.candidates(child, path) {
            let Some(issuer) = self.cert(node) else {
                continue;
            };
            let result = match node {
                Node::Anchor(i) => self
                    .check_candidate(leaf, issuer, node, path)
                    .and_then(|()| self.check_signature(child, issuer))
                    .map(|()| ReachedAnchor(i)),
                Node::Intermediate(_) => self
                    .check_candidate(leaf, issuer, node, path)
                    .and_then(|()| self.extend_through(leaf, child, issuer, node, path)),
            };
            match result {
                Ok(anchor) => return Ok(anchor),
                Err(e) if e.code() == ErrorCode::PathBudgetExceeded => return Err(e),
                Err(e) => keep_most_specific(&mut best, e),
            }
        }
        Err(best.unwrap_or_else(|| {
            Error::new(
                ErrorCode::UnknownIssuer,
                format!("no given anchor or intermediate issued {}", child.id()),
            )
        }))
    }

    /// Top down: the intermediate's own path to an anchor is validated before the
    /// child's signature by the intermediate is checked. A forged intermediate then
    /// fails at its first signature check, made with a registered CA's key, so an
    /// attacker cannot make certgate spend time on key types they choose (a DSA-2048
    /// check costs milliseconds natively, bench/README.md). `path` is left as it was
    /// when this fails.
    fn extend_through(
        &mut self,
        leaf: &Certificate<'a>,
        child: &Certificate<'a>,
        intermediate: &Certificate<'a>,
        node: Node,
        path: &mut Vec<Node>,
    ) -> Result<ReachedAnchor, Error> {
        let mark = path.len();
        path.push(node);
        let result = self
            .extend(leaf, path)
            .and_then(|anchor| self.check_signature(child, intermediate).map(|()| anchor));
        if result.is_err() {
            path.truncate(mark);
        }
        result
    }

    /// Constraints an issuer must meet before any signature is checked: the issuer
    /// rules (validity, CA flag, pathLen, keyUsage, critical extensions), the rules for
    /// issued certificates unless it is an anchor, and its name constraints over every
    /// certificate below it.
    fn check_candidate(
        &mut self,
        leaf: &Certificate<'a>,
        issuer: &Certificate<'a>,
        node: Node,
        path: &[Node],
    ) -> Result<(), Error> {
        check_issuer(issuer, self.at, counted_depth(self.certs(path)))?;
        if let Node::Intermediate(_) = node {
            check_issued(issuer)?;
        }
        check_name_constraints(issuer, leaf, self.certs(path), &mut self.name_comparisons)
    }

    /// <https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3> (a)(1): `child`'s
    /// signature verifies under `issuer`'s key, within the signature budget.
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

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.1.4> (l): self-issued certificates
/// (key rollover) do not count towards pathLenConstraint, so they do not count towards
/// the depth limit either. Counts the CA certificates in `certs` that do.
fn counted_depth<'x, 'a: 'x>(certs: impl Iterator<Item = &'x Certificate<'a>>) -> usize {
    certs.filter(|c| !is_self_issued(c)).count()
}

/// [`Limits::max_path_depth`]: a path deeper than the limit is refused before any
/// further issuer is looked for.
fn check_depth(depth: usize, limits: &Limits) -> Result<(), Error> {
    if depth > limits.max_path_depth {
        return Err(Error::new(
            ErrorCode::PathLengthExceeded,
            "path is deeper than the depth limit",
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.4>: the issuer field "MUST
/// contain a non-empty distinguished name"; an empty one can match no issuer.
fn check_issuer_name_present(child: &Certificate<'_>) -> Result<(), Error> {
    if child.x509.issuer().iter_attributes().next().is_none() {
        return Err(Error::new(
            ErrorCode::UnknownIssuer,
            format!("certificate {} has an empty issuer name", child.id()),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3> (a)(4): the child's issuer
/// name is the candidate's subject name (compared as encoded). A certificate never
/// issues itself on a path.
fn names_chain(child: &Certificate<'_>, candidate: &Certificate<'_>) -> bool {
    candidate.x509.subject().as_raw() == child.x509.issuer().as_raw() && candidate.der != child.der
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10> and
/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.1.4> (g): a CA's name constraints,
/// refused when malformed, apply to every certificate below it: the leaf and the
/// intermediates in `below`, except self-issued intermediates (6.1.3 (b) ordering).
fn check_name_constraints<'x, 'a: 'x>(
    issuer: &Certificate<'a>,
    leaf: &Certificate<'a>,
    below: impl Iterator<Item = &'x Certificate<'a>>,
    comparisons_left: &mut usize,
) -> Result<(), Error> {
    let Some(nc) = name_constraints::of(issuer)? else {
        return Ok(());
    };
    name_constraints::check(&nc, leaf, comparisons_left)?;
    for cert in below.filter(|c| !is_self_issued(c)) {
        name_constraints::check(&nc, cert, comparisons_left)?;
    }
    Ok(())
}

/// When no candidate issuer works, report the failure that says most: any error from
/// further up the path over a plain "unknown issuer".
fn keep_most_specific(best: &mut Option<Error>, e: Error) {
    if best
        .as_ref()
        .is_none_or(|b| b.code() == ErrorCode::UnknownIssuer)
    {
        *best = Some(e);
    }
}

fn parse_all<'a>(ders: &'a [Vec<u8>], limits: &Limits) -> Result<Vec<Certificate<'a>>, Error> {
    ders.iter().map(|d| Certificate::parse(d, limits)).collect()
}

/// [`Limits::max_chain_certificates`] and [`Limits::max_anchors`]: refused before any
/// certificate is decoded.
fn check_input_counts(input: &ChainInput<'_>, limits: &Limits) -> Result<(), Error> {
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
    Ok(())
}

/// The rules the leaf meets on its own, before any issuer is looked for: validity
/// (<https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3> (a)(2)), no unprocessed
/// critical extension (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2>), the rules
/// for issued certificates, AWS IoT's key policy
/// (<https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html>) and
/// the extendedKeyUsage policy
/// (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12>).
fn check_leaf(leaf: &Certificate<'_>, at: i64, eku: EkuPolicy) -> Result<(), Error> {
    leaf.check_validity(at)?;
    check_critical_extensions(leaf)?;
    check_issued(leaf)?;
    KeyInfo::of(leaf.x509.public_key())?.check_policy()?;
    check_eku(leaf, eku)
}

/// Validate `input.leaf` up to one of `input.anchors` at `input.at`.
pub fn verify_chain(
    verifier: &dyn SignatureVerifier,
    input: &ChainInput<'_>,
    limits: &Limits,
) -> Result<VerifiedChain, Error> {
    check_input_counts(input, limits)?;
    let leaf = Certificate::parse(input.leaf, limits)?;
    let intermediates = parse_all(input.intermediates, limits)?;
    let anchors = parse_all(input.anchors, limits)?;
    check_leaf(&leaf, input.at, input.eku)?;
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
    path.push(Node::Anchor(anchor.0));
    // Each id is a SHA-256 of a whole certificate: computed once per certificate, and
    // remembered for the issuers above the leaf, which recur on every path of a fleet.
    let leaf_certificate_id = leaf.id();
    let mut ids = vec![leaf_certificate_id.clone()];
    let mut serials = vec![hex(leaf.x509.raw_serial())];
    let mut not_after = leaf.not_after();
    for cert in search.certs(&path) {
        ids.push(cert.recurring_id());
        serials.push(hex(cert.x509.raw_serial()));
        not_after = not_after.min(cert.not_after());
    }
    // The anchor is the path's last certificate.
    let anchor_certificate_id = ids.last().cloned().unwrap_or_default();
    Ok(VerifiedChain {
        leaf_certificate_id,
        anchor_certificate_id,
        path: ids,
        serials,
        not_after,
    })
}
