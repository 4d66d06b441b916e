// The peer handshake's proofs and checks (node/peer_handshake.h), and the
// cluster secret file (node/cluster_secret.h).
#include "node/peer_handshake.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "node/cluster_secret.h"

namespace ringkv {
namespace {

const std::string kSecret(40, 's');

bool Members(const NodeId& id) { return id == "n1" || id == "n2" || id == "n3"; }

struct Outcome {
  Status opener_saw;    // Answer's verdict on the acceptor
  Status acceptor_saw;  // Challenge's or Verify's verdict on the opener
};

// One handshake between `opener` and `acceptor`, dialled as `dialled`.
Outcome Handshake(const PeerAuthenticator& opener, const PeerAuthenticator& acceptor,
                  const NodeId& dialled) {
  Outcome run;
  PeerAuthenticator::Opening opening;
  Result<PeerHello> hello = opener.Hello(dialled, &opening);
  EXPECT_TRUE(hello.ok());
  PeerAuthenticator::Accepting accepting;
  Result<PeerChallenge> challenge = acceptor.Challenge(*hello, &accepting);
  if (!challenge.ok()) {
    run.acceptor_saw = challenge.status();
    return run;
  }
  Result<PeerProof> proof = opener.Answer(opening, *challenge);
  if (!proof.ok()) {
    run.opener_saw = proof.status();
    return run;
  }
  run.acceptor_saw = acceptor.Verify(accepting, *proof);
  return run;
}

TEST(PeerHandshakeTest, MembersWithTheSameSecretAuthenticateEachOther) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator n2("n2", kSecret, Members);
  Outcome run = Handshake(n1, n2, "n2");
  EXPECT_TRUE(run.opener_saw.ok()) << run.opener_saw.ToString();
  EXPECT_TRUE(run.acceptor_saw.ok()) << run.acceptor_saw.ToString();
}

TEST(PeerHandshakeTest, AWrongSecretIsCaughtByTheOtherSide) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator impostor("n2", std::string(40, 'x'), Members);
  // The opener holds the right secret: the impostor's challenge fails it.
  Outcome as_acceptor = Handshake(n1, impostor, "n2");
  EXPECT_TRUE(as_acceptor.opener_saw.IsInvalidArgument()) << as_acceptor.opener_saw.ToString();
  EXPECT_NE(as_acceptor.opener_saw.message().find("does not hold"), std::string::npos);
  // An impostor opener fails on the right acceptor's challenge the same way.
  Outcome as_opener = Handshake(impostor, n1, "n1");
  EXPECT_TRUE(as_opener.opener_saw.IsInvalidArgument());
  // Were it to send a proof anyway, its bytes do not verify.
  PeerAuthenticator::Opening opening;
  Result<PeerHello> hello = impostor.Hello("n1", &opening);
  PeerAuthenticator::Accepting accepting;
  ASSERT_TRUE(n1.Challenge(*hello, &accepting).ok());
  EXPECT_TRUE(n1.Verify(accepting, PeerProof{std::string(32, '\0')}).IsInvalidArgument());
  EXPECT_TRUE(n1.Verify(accepting, PeerProof{""}).IsInvalidArgument());
}

TEST(PeerHandshakeTest, ANonMemberOrSelfIsRefusedAtTheHello) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator n9("n9", kSecret, [](const NodeId&) { return true; });
  Outcome run = Handshake(n9, n1, "n1");
  EXPECT_TRUE(run.acceptor_saw.IsInvalidArgument());
  EXPECT_NE(run.acceptor_saw.message().find("not a member"), std::string::npos);
  PeerAuthenticator other_n1("n1", kSecret, Members);
  Outcome self = Handshake(other_n1, n1, "n1");
  EXPECT_TRUE(self.acceptor_saw.IsInvalidArgument());
}

TEST(PeerHandshakeTest, AnotherNodeAtTheDialledAddressIsRefused) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator n3("n3", kSecret, Members);
  Outcome run = Handshake(n1, n3, "n2");
  EXPECT_TRUE(run.opener_saw.IsInvalidArgument());
  EXPECT_NE(run.opener_saw.message().find("dialled n2"), std::string::npos);
}

TEST(PeerHandshakeTest, AProofIsBoundToItsConnectionAndItsSide) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator n2("n2", kSecret, Members);
  // A recorded opener proof, replayed on a new connection (fresh acceptor
  // nonce), does not verify.
  PeerAuthenticator::Opening opening;
  Result<PeerHello> hello = n1.Hello("n2", &opening);
  PeerAuthenticator::Accepting first;
  Result<PeerChallenge> challenge = n2.Challenge(*hello, &first);
  Result<PeerProof> proof = n1.Answer(opening, *challenge);
  ASSERT_TRUE(proof.ok());
  ASSERT_TRUE(n2.Verify(first, *proof).ok());
  PeerAuthenticator::Accepting second;
  ASSERT_TRUE(n2.Challenge(*hello, &second).ok());
  EXPECT_NE(first.nonce, second.nonce);
  EXPECT_TRUE(n2.Verify(second, *proof).IsInvalidArgument());
  // The acceptor's proof sent back as the opener's (reflection) fails too.
  EXPECT_TRUE(n2.Verify(first, PeerProof{challenge->proof}).IsInvalidArgument());
}

TEST(PeerHandshakeTest, MalformedNoncesAreRefused) {
  PeerAuthenticator n1("n1", kSecret, Members);
  PeerAuthenticator::Accepting accepting;
  EXPECT_TRUE(n1.Challenge(PeerHello{"n2", "short"}, &accepting).status().IsInvalidArgument());
  EXPECT_TRUE(n1.Challenge(PeerHello{"n2", std::string(1 << 16, 'x')}, &accepting)
                  .status()
                  .IsInvalidArgument());
  PeerAuthenticator::Opening opening;
  ASSERT_TRUE(n1.Hello("n2", &opening).ok());
  EXPECT_TRUE(n1.Answer(opening, PeerChallenge{"n2", "", ""}).status().IsInvalidArgument());
}

TEST(PeerHandshakeTest, NoncesAreFresh) {
  PeerAuthenticator n1("n1", kSecret, Members);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    PeerAuthenticator::Opening opening;
    Result<PeerHello> hello = n1.Hello("n2", &opening);
    ASSERT_TRUE(hello.ok());
    EXPECT_EQ(hello->nonce.size(), PeerAuthenticator::kNonceBytes);
    EXPECT_TRUE(seen.insert(hello->nonce).second);
  }
}

class ClusterSecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ringkv-secret-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ClusterSecretTest, CreatedOwnerOnlyAndReadBack) {
  const std::string path = dir_ / "secret";
  ASSERT_TRUE(CreateClusterSecret(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::string> secret = ReadClusterSecret(path);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->size(), 64u);
  // Never replaced.
  EXPECT_FALSE(CreateClusterSecret(path).ok());
  EXPECT_EQ(*ReadClusterSecret(path), *secret);
}

TEST_F(ClusterSecretTest, ReadableByOthersOrTooShortIsRefused) {
  const std::string path = dir_ / "secret";
  ASSERT_TRUE(CreateClusterSecret(path).ok());
  ::chmod(path.c_str(), 0644);
  Result<std::string> open = ReadClusterSecret(path);
  EXPECT_TRUE(open.status().IsInvalidArgument());
  EXPECT_NE(open.status().message().find("0644"), std::string::npos);
  const std::string short_path = dir_ / "short";
  std::ofstream(short_path) << "tooshort\n";
  ::chmod(short_path.c_str(), 0600);
  EXPECT_TRUE(ReadClusterSecret(short_path).status().IsInvalidArgument());
  EXPECT_TRUE(ReadClusterSecret((dir_ / "missing").string()).status().IsIOError());
}

// A Kubernetes secret volume with an fsGroup: owned by root, group-readable.
TEST_F(ClusterSecretTest, ARootOwnedGroupReadableFileIsAcceptedAndNothingWider) {
  const std::string path = dir_ / "secret";
  ASSERT_TRUE(CreateClusterSecret(path).ok());
  ::chmod(path.c_str(), 0440);
  Result<std::string> group_readable = ReadClusterSecret(path);
  if (::geteuid() == 0) {
    EXPECT_TRUE(group_readable.ok()) << group_readable.status().ToString();
  } else {
    EXPECT_TRUE(group_readable.status().IsInvalidArgument()) << "not owned by root";
  }
  for (mode_t wider : {0460, 0444, 0404}) {
    ::chmod(path.c_str(), wider);
    EXPECT_TRUE(ReadClusterSecret(path).status().IsInvalidArgument()) << std::oct << wider;
  }
}

}  // namespace
}  // namespace ringkv
