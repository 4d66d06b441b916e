// HOST:PORT, the one address parser of node/, client/ and tools/.
#include "common/host_port.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

TEST(HostPortTest, ParsesHostAndPort) {
  Result<HostPort> a = ParseHostPort("127.0.0.1:7101");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7101);
  Result<HostPort> v6 = ParseHostPort("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  EXPECT_EQ(ParseHostPort("db.example:65535")->port, 65535);
  EXPECT_EQ(ParseHostPort("h:1")->port, 1);
  EXPECT_EQ(*ParseHostPort("[fe80::1%eth0]:7101"), (HostPort{"fe80::1%eth0", 7101}));
}

TEST(HostPortTest, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "host", "host:", ":7101", "host:0", "host:65536", "host:70000", "host:7x", "host:1a",
        "host:-1", "host:+1", "host: 1", "host:1 ", "host:99999999999", "h", "h:", ":1",
        "::1:7101", "[::1]", "[::1]7101", "[::1:7101", "[]:7101", "[::1]:", "[::1]:0"}) {
    EXPECT_TRUE(ParseHostPort(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(HostPortTest, ErrorsNameTheAddressAndTheProblem) {
  EXPECT_EQ(ParseHostPort("nope").status().message(), "bad address 'nope': expected HOST:PORT");
  EXPECT_EQ(ParseHostPort(":1").status().message(), "bad address ':1': no host before the port");
  EXPECT_EQ(ParseHostPort("h:7x").status().message(),
            "bad address 'h:7x': the port must be a number from 1 to 65535");
  EXPECT_EQ(ParseHostPort("::1:7101").status().message(),
            "bad address '::1:7101': an IPv6 host goes in brackets, as in [::1]:7101");
}

TEST(HostPortTest, ToStringIsReadBack) {
  for (const char* text : {"127.0.0.1:7101", "[::1]:80", "db.example:65535"}) {
    Result<HostPort> parsed = ParseHostPort(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed->ToString(), text);
  }
}

}  // namespace
}  // namespace ringkv
