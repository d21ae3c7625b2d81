// The weekly review as people read it: plain text for a terminal or a chat,
// Markdown for a wiki or a merge request, and one self-contained HTML page
// (inline CSS and SVG charts, no external asset) for the meeting, shared by
// the command line and the service's /review page. Presentation only: every
// figure comes from the Review message.
#ifndef SMARKETING_CORE_REVIEW_REVIEW_RENDER_H_
#define SMARKETING_CORE_REVIEW_REVIEW_RENDER_H_

#include <string>

#include "smarketing/v1/review.pb.h"

namespace smarketing {

std::string RenderReviewText(const v1::Review& review);
std::string RenderReviewMarkdown(const v1::Review& review);
// Elements holding a headline number carry data-figure="NAME" (mqls,
// accepted, rejected, acceptance_rate, first_touch_rate, untreated) so that
// scripts and tests can find them.
std::string RenderReviewHtml(const v1::Review& review);

}  // namespace smarketing

#endif  // SMARKETING_CORE_REVIEW_REVIEW_RENDER_H_
