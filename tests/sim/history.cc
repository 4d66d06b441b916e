#include "tests/sim/history.h"

#include <cstdio>

namespace ringkv::sim {

const char* OpTypeName(OpType t) {
  switch (t) {
    case OpType::kGet: return "get";
    case OpType::kPut: return "put";
    case OpType::kDelete: return "delete";
  }
  return "?";
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPending: return "pending";
    case Outcome::kOk: return "ok";
    case Outcome::kFail: return "fail";
    case Outcome::kInfo: return "info";
  }
  return "?";
}

std::string DescribeOp(const Op& op) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), "op#%llu %s %s/%s%s%s via n%03d [%.6f..%.6f] %s%s%s",
                static_cast<unsigned long long>(op.id), OpTypeName(op.type), op.bucket.c_str(),
                op.key.c_str(), op.value.empty() ? "" : " = ", op.value.c_str(), op.node,
                op.invoke_us / 1e6, op.complete_us / 1e6, OutcomeName(op.outcome),
                op.status.ok() ? "" : " ", op.status.ok() ? "" : op.status.ToString().c_str());
  std::string s = buf;
  if (op.has_dot) {
    s += " dot=" + op.sibling.dot.actor.node + "#" +
         std::to_string(op.sibling.dot.actor.incarnation % 10000) + ":" +
         std::to_string(op.sibling.dot.counter);
  }
  return s;
}

History::Counts History::Count() const {
  Counts c;
  for (const Op& op : ops_) {
    switch (op.outcome) {
      case Outcome::kOk: ++c.ok; break;
      case Outcome::kFail: ++c.fail; break;
      case Outcome::kInfo: ++c.info; break;
      case Outcome::kPending: ++c.pending; break;
    }
  }
  return c;
}

}  // namespace ringkv::sim
