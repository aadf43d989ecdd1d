// mpi_world.h: what pcopy-mpi asks of MPI, in one place: the session (MPI_Init_thread and
// MPI_Finalize), this rank's place in the job, a few collectives over byte strings, and the one
// window every rank shares (MpiBoard).
//
// The board lives in rank 0's memory (MPI_Win_allocate) and is reached by every rank with
// passive-target one-sided operations, so no rank ever serves requests: a cursor that hands out
// the units of a self-scheduled plan (MPI_Fetch_and_op, MPI_SUM), one progress counter and one
// state per rank (atomic replacements, read by rank 0 under a shared lock), a stop flag any
// rank may raise, and for a resumable copy one durability mark per unit. On one node Open MPI
// serves these through shared memory; across nodes, through its one-sided transport. Nothing here
// forks: MPI processes are not to be forked after MPI_Init (-j's workers are forked before it,
// rank_workers.h).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pcopy {

class MpiWorld {
 public:
  // MPI_Init_thread (MPI_THREAD_SINGLE). Errors abort inside MPI: there is no job without it.
  MpiWorld(int* argc, char*** argv);
  ~MpiWorld();  // MPI_Finalize
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }
  // This rank's machine: its host name and its kernel's boot id, so that two nodes that share a
  // host name (containers) are still told apart. Ranks with the same machine share a page cache.
  const std::string& machine() const { return machine_; }

  // Rank 0's bytes, delivered to every rank.
  std::string Broadcast(const std::string& bytes) const;
  int BroadcastInt(int value) const;
  // Every rank's bytes, delivered to rank 0 in rank order (other ranks get an empty vector).
  std::vector<std::string> Gather(const std::string& bytes) const;
  void Barrier() const;

 private:
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
  std::string machine_;
};

// A rank's state on the board.
enum class RankState : int64_t { kCopying = 0, kDone = 1, kFailed = 2 };

class MpiBoard {
 public:
  // Collective: every rank calls it, with the same units: the number of units whose durability
  // the ranks mark (a resumable copy's, mpi_resume.h; 0 otherwise).
  MpiBoard(const MpiWorld& world, size_t units);
  ~MpiBoard();  // collective (MPI_Win_free)
  MpiBoard(const MpiBoard&) = delete;
  MpiBoard& operator=(const MpiBoard&) = delete;

  // The next unit of the shared cursor (0, 1, 2, ...: one call, one unit, across every rank).
  uint64_t TakeUnit();
  // This rank's bytes copied so far, and its state.
  void Publish(uint64_t bytes, RankState state);
  // Raises the stop flag: every rank stops at its next unit.
  void Stop();
  bool Stopped();
  // Rank 0: every rank's bytes and state as last published.
  void Read(std::vector<uint64_t>* bytes, std::vector<RankState>* states);
  // Marks units as durable (made so by this rank); rank 0 reads every unit's mark.
  void MarkDurable(const std::vector<size_t>& units);
  // Rank 0: every unit's mark into *durable (sized to the units; nothing is allocated here).
  void ReadDurable(std::vector<uint8_t>* durable);

 private:
  int64_t FetchAdd(int slot, int64_t value);

  const MpiWorld& world_;
  MPI_Aint units_;
  std::vector<int64_t> marks_;  // rank 0: ReadDurable's buffer
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
};

}  // namespace pcopy
