// tree_messages.h: the messages of a tree copy across ranks (mpi_tree.h), between rank 0's
// MpiTaskRunner and the other ranks' servers (rank_server.h): their tags, the config every rank
// starts with, and descriptors as another rank reopens them (by path, checked by inode).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "exec/tree_config.h"
#include "exec/tree_task.h"

namespace pcopy {

// Messages between rank 0 and the others, by tag.
inline constexpr int kTagStart = 11;   // 0 -> r: the workers' config, and rank 0's machine
inline constexpr int kTagTask = 12;    // 0 -> r: a task, its lane and its descriptors' paths
inline constexpr int kTagResult = 13;  // r -> 0: a task's answer (its id names the lane)
inline constexpr int kTagQuit = 14;    // 0 -> r: the copy is over; tasks not begun are dropped
inline constexpr int kTagGone = 15;    // r -> 0: this rank stopped: the signal, and one line why
inline constexpr int kTagBye = 16;     // r -> 0: the last message a rank sends
inline constexpr int kTagReady = 17;   // r -> 0: the answer to kTagStart: "" or why it cannot copy

void SendTo(int rank, int tag, const std::vector<char>& bytes);
// Receives the message `probed` describes.
std::vector<char> ReceiveProbed(const MPI_Status& probed);
// MPI_Iprobe: whether a message from source with tag is waiting.
bool Probe(int source, int tag, MPI_Status* status);

// What a rank needs of the workers' config, rank 0's machine (MpiWorld::machine), and the file it
// reads back to show that it shares DEST's file system.
std::vector<char> EncodeStart(const TreeWorkerConfig& c, const std::string& machine,
                              const std::string& probe);
bool DecodeStart(const std::vector<char>& bytes, TreeWorkerConfig* c, std::string* machine,
                 std::string* probe);

// A task for lane `lane` of a rank (one of its -j workers), with its descriptors described by
// path; a descriptor with no name another rank could open fails it.
Status EncodeTaskMessage(const Task& task, uint32_t lane, std::vector<char>* out);
// The task, its lane and its descriptors reopened; a descriptor that cannot be reopened as the
// file rank 0 holds sets *error (the task and lane are still decoded where they could be).
bool DecodeTaskMessage(const std::vector<char>& bytes, bool compare_dev, Task* task, uint32_t* lane,
                       Status* error);

// The answer to a task none of whose work could be done: every entry failed with `error`.
TaskResult FailedResult(const Task& task, const Status& error);

}  // namespace pcopy
