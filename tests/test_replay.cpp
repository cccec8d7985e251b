// The trace-cmd report reader (models/device/replay.hpp): the shipped sample in the real text
// format, and strict errors naming the file and line.
#include <gtest/gtest.h>

#include "models/device/replay.hpp"

using iopf::parse_replay;
using iopf::ReplayError;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_replay(text, "t.txt");
  } catch (const ReplayError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kMapLine =
    "  dd-77 [000]  10.000001: map:  IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000abc000 "
    "size=4096\n";

TEST(Replay, SampleInTheRealFormat) {
  const iopf::ReplayTrace t = iopf::read_replay(std::string(IOPFSIM_SOURCE_DIR) + "/tests/data/replay-iommu.txt");
  ASSERT_EQ(t.dmas.size(), 7u);  // 3 maps, 4 faults
  ASSERT_EQ(t.unmaps.size(), 2u);
  EXPECT_EQ(t.other_events, 1u);  // sched_switch
  EXPECT_EQ(t.dmas[0].t_ns, 0u);
  EXPECT_EQ(t.dmas[0].iova, 0x100000u);
  EXPECT_EQ(t.dmas[1].t_ns, 5000u);
  EXPECT_EQ(t.dmas[2].iova, 0x200000u);
  EXPECT_FALSE(t.dmas[2].write);
  EXPECT_TRUE(t.dmas[4].write);  // flags=0x0001: IOMMU_FAULT_WRITE
  EXPECT_EQ(t.unmaps[0].t_ns, 100000u);
  EXPECT_EQ(t.unmaps[1].iova, 0x101000u);
  EXPECT_EQ(t.unmaps[1].bytes, 8192u);
  EXPECT_EQ(t.dmas.back().t_ns, 300000u);
}

TEST(Replay, NanosecondTimestampsAndSystemPrefix) {
  const iopf::ReplayTrace t = parse_replay(
      "# a comment\n\n a-1 [0] 2.000000001: iommu:io_page_fault: IOMMU:idxd 0000:6a:01.0 iova=0x10 flags=0x1\n"
      " a-1 [0] d..1 2.000000101: iommu:unmap: IOMMU: iova=0x0 - 0x1000 size=4096 unmapped_size=4096\n",
      "t.txt");
  ASSERT_EQ(t.dmas.size(), 1u);
  EXPECT_EQ(t.unmaps.at(0).t_ns, 100u);
}

TEST(Replay, StrictErrorsNameFileAndLine) {
  EXPECT_NE(error_of(std::string(kMapLine) + "garbage here\n").find("t.txt:2: expected a trace-cmd report line"),
            std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: map: IOMMU: iova=0x1000 paddr=0x0 size=4096\n").find("t.txt:1: map: expected"),
            std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: map: IOMMU: iova=0x1000 - 0x1800 paddr=0x0 size=4096\n").find("does not span"),
            std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: unmap: IOMMU: iova=0x1000 - 0x1000 size=0 unmapped_size=0\n").find("size=0"),
            std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: io_page_fault: IOMMU:x iova=zz flags=0x0\n").find("t.txt:1: io_page_fault"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMapLine) + " a-1 [0] 9.0: io_page_fault: IOMMU:x y iova=0x1 flags=0x0\n")
                .find("t.txt:2: time goes backwards"),
            std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: sched_switch: prev_comm=a\n").find("no iommu:map"), std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0000000001: map: x\n").find("t.txt:1: expected"), std::string::npos);
  EXPECT_NE(error_of(" a-1 [0] 1.0: map: IOMMU: iova=0x11111111111111111 - 0x1 paddr=0x0 size=1\n").find("out of range"),
            std::string::npos);
  EXPECT_EQ(error_of(kMapLine), "(no error)");
}

}  // namespace
