// program_name.h: the name every message of pcopy's starts with ("pcopy: cannot open ..."), as
// GNU tools keep program_name: "pcopy", or "pcopy-mpi" for the MPI binary, which runs the same
// library. Set once by main before anything is printed; read from anywhere, forked workers
// included (they inherit it).
#pragma once

namespace pcopy {

const char* ProgramName();
void SetProgramName(const char* name);  // name must outlive the process (a literal)

}  // namespace pcopy
