//! Sealed access on the real program: the renter's SSH key and recipient key are stored at
//! open, the provider's sealed details at activation (size-bounded, never interpreted), only
//! the renter can open them, and the account goes away with the rental.
use gpu_escrow::state::{RentalAccess, SEALED_MAX, SSH_KEY_MAX};
use gpu_escrow_sdk::access::{self, AccessError, AccessKey};
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{test_connection, Market, TEST_SSH_KEY};

#[test]
fn the_renter_and_only_the_renter_opens_the_sealed_details() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let a: RentalAccess = m.env.decode(&k.access());
    assert_eq!((a.rental, a.ssh_key.as_slice(), a.sealed.len()), (k.rental, TEST_SSH_KEY.as_bytes(), 0));
    assert_eq!(a.recipient, AccessKey::from_wallet(&m.renter).recipient());
    m.activate(&k).unwrap();

    let a: RentalAccess = m.env.decode(&k.access());
    let provider = m.provider.pubkey();
    let key = AccessKey::from_wallet(&m.renter);
    let details = access::open(&a.sealed, &k.rental, &a.recipient, &provider, &key).unwrap();
    assert_eq!(details, test_connection());
    // A third party holding the account data (and every transaction) cannot open it.
    let stranger = AccessKey::from_wallet(&m.env.wallet());
    assert_eq!(access::open(&a.sealed, &k.rental, &a.recipient, &provider, &stranger), Err(AccessError::WrongKey));
    assert_eq!(
        access::open(&a.sealed, &k.rental, &stranger.recipient(), &provider, &stranger),
        Err(AccessError::Tampered)
    );
    let mut tampered = a.sealed.clone();
    tampered[20] ^= 0x40;
    assert_eq!(access::open(&tampered, &k.rental, &a.recipient, &provider, &key), Err(AccessError::Tampered));
}

#[test]
fn oversized_blobs_and_keys_are_refused_by_the_program() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let p = m.provider.insecure_clone();
    let err =
        m.env.send1(ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), vec![7; SEALED_MAX + 1]), &p).unwrap_err();
    assert_eq!(err.name, "SealedAccessTooLong");
    m.env.send1(ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), vec![7; SEALED_MAX]), &p).unwrap();

    let mut req = m.open_request(600_000);
    req.access.ssh_key = vec![b'A'; SSH_KEY_MAX + 1];
    assert_eq!(m.send_open(&req).unwrap_err().name, "SshKeyTooLong");
    assert!(!m.env.exists(&req.rental()));
}

#[test]
fn only_the_provider_writes_the_blob_and_only_once() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let stranger = m.env.wallet();
    let err = m
        .env
        .send1(ix::activate_rental(&stranger.pubkey(), &k.rental, &k.access(), vec![1; 10]), &stranger)
        .unwrap_err();
    assert_eq!(err.name, "NotProvider");
    m.activate(&k).unwrap();
    // A second activation (e.g. a restarted agent) cannot overwrite what the renter received.
    let p = m.provider.insecure_clone();
    let err = m.env.send1(ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), vec![1; 10]), &p).unwrap_err();
    assert_eq!(err.name, "RentalNotFunded");
    // Another rental's access account cannot be passed in place of this one's.
    let other = m.open(600_000).unwrap();
    let mut wrong = ix::activate_rental(&p.pubkey(), &other.rental, &other.access(), vec![1; 10]);
    wrong.accounts[2].pubkey = k.access(); // this rental's, not the other's
    assert_eq!(m.env.send1(wrong, &p).unwrap_err().name, "ConstraintHasOne");
}
