-- CreateTable
CREATE TABLE `users` (
    `user_id` CHAR(10) NOT NULL,
    `email` VARCHAR(254) NOT NULL,
    `username` VARCHAR(32) NOT NULL,
    `password_hash` VARCHAR(255) NOT NULL,
    `avatar` VARCHAR(255) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    UNIQUE INDEX `users_email_key`(`email`),
    UNIQUE INDEX `users_username_key`(`username`),
    INDEX `users_created_at_idx`(`created_at`),
    PRIMARY KEY (`user_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `chat_messages` (
    `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    `seq` BIGINT UNSIGNED NOT NULL,
    `conversation` VARCHAR(32) NOT NULL,
    `sender_id` CHAR(10) NOT NULL,
    `target_id` CHAR(10) NULL,
    `msg_type` TINYINT UNSIGNED NOT NULL,
    `content` TEXT NOT NULL,
    `client_msg_id` VARCHAR(64) NULL,
    `file_id` BIGINT UNSIGNED NULL,
    `online_count` INTEGER UNSIGNED NOT NULL DEFAULT 0,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `chat_messages_conversation_id_idx`(`conversation`, `id`),
    INDEX `chat_messages_conversation_sender_id_id_idx`(`conversation`, `sender_id`, `id`),
    INDEX `chat_messages_target_id_idx`(`target_id`),
    INDEX `chat_messages_file_id_idx`(`file_id`),
    UNIQUE INDEX `chat_messages_sender_id_client_msg_id_key`(`sender_id`, `client_msg_id`),
    UNIQUE INDEX `chat_messages_conversation_seq_key`(`conversation`, `seq`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `conversations` (
    `conversation` VARCHAR(32) NOT NULL,
    `last_seq` BIGINT UNSIGNED NOT NULL DEFAULT 0,

    PRIMARY KEY (`conversation`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `files` (
    `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    `file_name` VARCHAR(128) NOT NULL,
    `original_name` VARCHAR(255) NOT NULL,
    `owner_id` CHAR(10) NOT NULL,
    `target_id` CHAR(10) NULL,
    `size` BIGINT UNSIGNED NOT NULL,
    `mime_type` VARCHAR(127) NOT NULL,
    `file_type` VARCHAR(32) NOT NULL,
    `storage_key` VARCHAR(255) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `files_file_name_key`(`file_name`),
    INDEX `files_owner_id_created_at_idx`(`owner_id`, `created_at`),
    INDEX `files_target_id_created_at_idx`(`target_id`, `created_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `chat_messages` ADD CONSTRAINT `chat_messages_sender_id_fkey` FOREIGN KEY (`sender_id`) REFERENCES `users`(`user_id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `chat_messages` ADD CONSTRAINT `chat_messages_target_id_fkey` FOREIGN KEY (`target_id`) REFERENCES `users`(`user_id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `chat_messages` ADD CONSTRAINT `chat_messages_file_id_fkey` FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `files` ADD CONSTRAINT `files_owner_id_fkey` FOREIGN KEY (`owner_id`) REFERENCES `users`(`user_id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `files` ADD CONSTRAINT `files_target_id_fkey` FOREIGN KEY (`target_id`) REFERENCES `users`(`user_id`) ON DELETE SET NULL ON UPDATE CASCADE;
