#include <gtest/gtest.h>

#include "models/common/units.hpp"

using namespace iopf::units;

TEST(Units, Bytes) {
  EXPECT_EQ(parse_bytes("4KiB"), 4096u);
  EXPECT_EQ(parse_bytes("2MiB"), 2u << 20);
  EXPECT_EQ(parse_bytes("1GiB"), 1u << 30);
  EXPECT_EQ(parse_bytes("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_bytes("64B"), 64u);
  EXPECT_EQ(parse_bytes("4096"), 4096u);
  EXPECT_EQ(parse_bytes("1TiB"), 1ull << 40);
  EXPECT_EQ(parse_bytes("2KB"), 2000u);
  EXPECT_FALSE(parse_bytes("4 KiBs"));
  EXPECT_FALSE(parse_bytes("KiB"));
  EXPECT_FALSE(parse_bytes("-4KiB"));
  EXPECT_FALSE(parse_bytes("0.5B"));  // not a whole number of bytes
  EXPECT_FALSE(parse_bytes("4kib"));
}

TEST(Units, Time) {
  EXPECT_EQ(parse_ns("500ns"), 500u);
  EXPECT_EQ(parse_ns("10us"), 10000u);
  EXPECT_EQ(parse_ns("5ms"), 5000000u);
  EXPECT_EQ(parse_ns("2.5us"), 2500u);
  EXPECT_EQ(parse_ns("1s"), 1000000000u);
  EXPECT_EQ(parse_ns("42"), 42u);
  EXPECT_FALSE(parse_ns("10 parsecs"));
  EXPECT_FALSE(parse_ns("0.5ns"));
  EXPECT_FALSE(parse_ns("us"));
}

TEST(Units, RateAndBandwidth) {
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("2Mpps"), 2e6);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("500kops"), 5e5);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("1000"), 1e3);
  EXPECT_FALSE(parse_rate_per_s("0pps"));
  EXPECT_FALSE(parse_rate_per_s("2Mbps"));
  EXPECT_DOUBLE_EQ(*parse_bandwidth_bytes_per_s("16GB/s"), 16e9);
  EXPECT_DOUBLE_EQ(*parse_bandwidth_bytes_per_s("128Gbps"), 16e9);
  EXPECT_FALSE(parse_bandwidth_bytes_per_s("16GB"));
}

TEST(Units, Format) {
  EXPECT_EQ(format_bytes(2u << 20), "2MiB");
  EXPECT_EQ(format_bytes(4097), "4.001KiB");           // the largest unit, not "4097B"
  EXPECT_EQ(format_bytes(65957888), "62.9MiB");         // not "64412KiB"
  EXPECT_EQ(format_bytes(1ULL << 40), "1TiB");
  EXPECT_EQ(format_ns(4320133000ULL), "4.32s");         // not "4320.133ms"
  EXPECT_EQ(format_ns(1080347139), "1.08s");
  EXPECT_EQ(format_ns(999), "999ns");
}

TEST(Units, FormatExact) {
  EXPECT_EQ(format_exact(1048576), "1048576");
  EXPECT_EQ(format_exact(9.2e18), "9200000000000000000");
  EXPECT_EQ(format_exact(1.8e19), "18000000000000000000");
  EXPECT_EQ(format_exact(-1), "-1");
  EXPECT_EQ(format_exact(0.001), "0.001");
  EXPECT_EQ(format_exact(2.5), "2.5");
  EXPECT_EQ(format_exact(1e15), "1000000000000000");
  EXPECT_EQ(format_exact(1e23), "99999999999999991611392");  // the double nearest 1e23, in full
}
