#include "app/progress_choice.h"

#include <unistd.h>

#include "app/progress_json.h"
#include "app/progress_view.h"

namespace pcopy {

std::unique_ptr<ProgressObserver> MakeProgress(const Options& o, const Console& console) {
  if (o.progress == ProgressMode::kJson) return std::make_unique<JsonProgress>(console.err);
  if (o.quiet) return nullptr;
  switch (o.progress) {
    case ProgressMode::kBar:
      return std::make_unique<ProgressView>(ProgressStyle::kBar, console.err, 0,
                                            TerminalHasEscapes(), console.ErrFd());
    case ProgressMode::kPlain:
      return std::make_unique<ProgressView>(ProgressStyle::kPlain, console.err, 0, true,
                                            console.ErrFd());
    case ProgressMode::kAuto:
      if (!isatty(console.ErrFd())) return nullptr;
      // A terminal of unknown kind (TERM=dumb: an editor's shell buffer) gets log lines.
      return std::make_unique<ProgressView>(
          TerminalHasEscapes() ? ProgressStyle::kBar : ProgressStyle::kPlain, console.err, 0, true,
          console.ErrFd());
    default:
      return nullptr;
  }
}

bool ShowsProgress(const Options& o, const Console& console) {
  return !o.quiet && (o.progress == ProgressMode::kBar || o.progress == ProgressMode::kPlain ||
                      (o.progress == ProgressMode::kAuto && isatty(console.ErrFd())));
}

}  // namespace pcopy
