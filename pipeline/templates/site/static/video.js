// Click to play: a video's thumbnail is a link to the video on its host. Pressing it swaps the
// thumbnail for the host's player, so nothing is requested from YouTube or Vimeo before that.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-embed]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  var player = document.createElement("iframe");
  player.src = link.getAttribute("data-embed");
  player.title = link.getAttribute("data-title") || "Video";
  player.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
  player.allowFullscreen = true;
  player.className = "video-player__frame";
  link.replaceWith(player);
  player.focus();
});
