#include "base/program_name.h"

namespace pcopy {
namespace {

const char* g_name = "pcopy";

}  // namespace

const char* ProgramName() { return g_name; }

void SetProgramName(const char* name) { g_name = name; }

}  // namespace pcopy
